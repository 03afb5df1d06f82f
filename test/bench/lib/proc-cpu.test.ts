import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcStatCpuMs, processCpuMs } from '../../../bench/lib/proc-cpu.js';

test('parses utime + stime, also when the command name has spaces and parentheses', () => {
  const line = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 11 0 100 1000 500';
  assert.equal(parseProcStatCpuMs(line), (250 + 37) * 10);
  assert.equal(parseProcStatCpuMs('garbage'), undefined);
});

test('reads this process (Linux)', { skip: process.platform !== 'linux' }, () => {
  const ms = processCpuMs(process.pid);
  assert.ok(ms !== undefined && ms >= 0);
  assert.equal(processCpuMs(2 ** 22 + 12345), undefined);
});
