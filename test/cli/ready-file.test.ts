import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readReadyFile, readyFilePath, writeReadyFile } from '../../src/cli/ready-file.js';
import { isTriremeError } from '../../src/errors.js';

test('the ready file round-trips, leaves no temporary file, and a missing one reads as undefined', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trireme-ready-'));
  try {
    assert.equal(readReadyFile(dir), undefined);
    const info = { pid: 4242, apiServer: { url: 'https://127.0.0.1:40001', port: 40001, kubeconfig: '/k' }, kubelet: { host: '127.0.0.1', port: 40002 } };
    writeReadyFile(join(dir, 'new'), info);
    assert.deepEqual(readReadyFile(join(dir, 'new')), info);
    assert.deepEqual(readdirSync(join(dir, 'new')), ['ready.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt ready file is an error, never a missing one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trireme-ready-'));
  try {
    writeFileSync(readyFilePath(dir), '{"pid": 12');
    assert.throws(() => readReadyFile(dir), (e: unknown) => isTriremeError(e, 'Internal') && /not JSON/.test(e.message));
    writeFileSync(readyFilePath(dir), '{"url": "x"}');
    assert.throws(() => readReadyFile(dir), /names no pid/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
