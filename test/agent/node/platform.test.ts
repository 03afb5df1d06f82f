import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goArch, goOs } from '../../../src/agent/node/platform.js';

test('Node arch names map to GOARCH', () => {
  const table: Array<[string, 'BE' | 'LE', string]> = [
    ['x64', 'LE', 'amd64'], ['arm64', 'LE', 'arm64'], ['arm', 'LE', 'arm'], ['ia32', 'LE', '386'],
    ['ppc64', 'LE', 'ppc64le'], ['ppc64', 'BE', 'ppc64'], ['s390x', 'BE', 's390x'], ['riscv64', 'LE', 'riscv64'],
    ['loong64', 'LE', 'loong64'], ['mipsel', 'LE', 'mipsle'], ['mips', 'BE', 'mips'],
    ['something-new', 'LE', 'something-new'],
  ];
  for (const [node, end, go] of table) assert.equal(goArch(node, end), go, `${node}/${end}`);
});

test('Node platform names map to GOOS', () => {
  const table: Array<[string, string]> = [['linux', 'linux'], ['darwin', 'darwin'], ['win32', 'windows'], ['sunos', 'solaris'], ['freebsd', 'freebsd'], ['haiku', 'haiku']];
  for (const [node, go] of table) assert.equal(goOs(node), go, node);
});
