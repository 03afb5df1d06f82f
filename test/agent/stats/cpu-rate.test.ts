// CPU rates from two samples (src/agent/stats/cpu-rate.ts), as tables of cases.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuCores, nodeCpuCores, parseProcStat } from '../../../src/agent/stats/cpu-rate.js';

describe('cpuCores: two samples of a cumulative counter → cores', () => {
  const cases: { name: string; prev: [number, number]; cur: [number, number]; want: number | undefined }[] = [
    { name: 'one core busy for the whole window', prev: [10, 0], cur: [15, 5000], want: 1 },
    { name: 'half a core', prev: [0, 1000], cur: [1, 3000], want: 0.5 },
    { name: 'two cores (multi-threaded)', prev: [100, 0], cur: [102, 1000], want: 2 },
    { name: 'idle', prev: [3.2, 0], cur: [3.2, 10_000], want: 0 },
    { name: 'a short window', prev: [0, 0], cur: [0.01, 100], want: 0.1 },
    { name: 'same instant: no rate', prev: [1, 5000], cur: [2, 5000], want: undefined },
    { name: 'time went backwards: no rate', prev: [1, 5000], cur: [2, 4000], want: undefined },
    { name: 'counter went backwards (processes replaced): no rate', prev: [9, 0], cur: [3, 1000], want: undefined },
    { name: 'NaN counter: no rate', prev: [Number.NaN, 0], cur: [1, 1000], want: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = cpuCores({ cpuSeconds: c.prev[0], atMs: c.prev[1] }, { cpuSeconds: c.cur[0], atMs: c.cur[1] });
      if (c.want === undefined) assert.equal(got, undefined);
      else assert.ok(got !== undefined && Math.abs(got - c.want) < 1e-9, `got ${got}, want ${c.want}`);
    });
  }
});

describe('nodeCpuCores: /proc/stat jiffies → cores', () => {
  const cases: { name: string; prev: [number, number]; cur: [number, number]; cpus: number; want: number | undefined }[] = [
    { name: 'all busy on 2 CPUs', prev: [0, 0], cur: [200, 200], cpus: 2, want: 2 },
    { name: 'a quarter busy on 4 CPUs', prev: [100, 1000], cur: [200, 1400], cpus: 4, want: 1 },
    { name: 'idle', prev: [50, 100], cur: [50, 300], cpus: 2, want: 0 },
    { name: 'no jiffies passed: no rate', prev: [50, 100], cur: [50, 100], cpus: 2, want: undefined },
    { name: 'busy went backwards: no rate', prev: [50, 100], cur: [40, 300], cpus: 2, want: undefined },
    { name: 'busy share capped at all CPUs', prev: [0, 0], cur: [300, 200], cpus: 2, want: 2 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = nodeCpuCores({ busy: c.prev[0], total: c.prev[1] }, { busy: c.cur[0], total: c.cur[1] }, c.cpus);
      if (c.want === undefined) assert.equal(got, undefined);
      else assert.ok(got !== undefined && Math.abs(got - c.want) < 1e-9, `got ${got}, want ${c.want}`);
    });
  }
});

describe('parseProcStat', () => {
  test('busy excludes idle and iowait; CPUs counted from the cpuN lines', () => {
    const text = 'cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\ncpu1 50 3 25 500 10 2 1 1 0 0\nintr 1 2\n';
    const { times, cpus } = parseProcStat(text);
    assert.equal(cpus, 2);
    assert.equal(times.busy, 100 + 5 + 50 + 3 + 2 + 1);
    assert.equal(times.total, times.busy + 1000 + 20);
  });
  test('no aggregate line: an error naming the file', () => {
    assert.throws(() => parseProcStat('intr 1\n'), /\/proc\/stat/);
  });
});
