import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuUsage, parseMachineBusyMs, parseProcStatCpuMs, processCpuMs } from '../../../bench/lib/proc-cpu.js';

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

test('machine busy time leaves out idle and iowait', () => {
  const stat = 'cpu  100 5 20 9999 777 1 2 3 0 0\ncpu0 50 2 10 5000 300 0 1 1 0 0\n';
  assert.equal(parseMachineBusyMs(stat), (100 + 5 + 20 + 1 + 2 + 3) * 10);
  assert.equal(parseMachineBusyMs('intr 1 2 3'), undefined);
});

test('cpuUsage attributes the rest of the machine to others', () => {
  const a = { atMs: 0, selfMs: 100, pidMs: 1000, machineMs: 5000 };
  const b = { atMs: 1000, selfMs: 400, pidMs: 1700, machineMs: 6500 };
  // 1500 ms busy in 1 s on 2 CPUs; 300 ours, 700 the server's: 500 ms others = 25% of 2 CPUs.
  assert.deepEqual(cpuUsage(a, b, 2), { wallMs: 1000, selfMs: 300, pidMs: 700, otherPct: 25 });
  assert.deepEqual(cpuUsage({ atMs: 0, selfMs: 0 }, { atMs: 10, selfMs: 5 }, 2), { wallMs: 10, selfMs: 5 });
});
