// /proc/<pid>/stat parsing and the grouping of processes into containers (src/agent/stats/proc-read.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { groupUsage, parsePidStat, readAllPidStats } from '../../../src/agent/stats/proc-read.js';

/** A stat line with the given command name and fields 3.. (state first). */
const line = (pid: number, comm: string, f: Record<number, number | string>): string => {
  const fields: (number | string)[] = [];
  for (let i = 3; i <= 52; i++) fields.push(f[i] ?? (i === 3 ? 'S' : 0));
  return `${pid} (${comm}) ${fields.join(' ')}`;
};

describe('parsePidStat', () => {
  test('session, group, the four CPU tick fields and rss; a name with spaces and parentheses', () => {
    const s = parsePidStat(42, line(42, 'a (weird) name', { 5: 40, 6: 40, 14: 100, 15: 20, 16: 3, 17: 4, 24: 256 }));
    assert.deepEqual(s, { pid: 42, pgrp: 40, session: 40, ticks: 127, rssPages: 256 });
  });
  test('a truncated line is refused', () => {
    assert.equal(parsePidStat(1, '1 (init) S 0'), undefined);
    assert.equal(parsePidStat(1, 'garbage'), undefined);
  });
});

describe('groupUsage', () => {
  const stats = [
    { pid: 100, pgrp: 100, session: 100, ticks: 10, rssPages: 5 },
    { pid: 101, pgrp: 100, session: 100, ticks: 7, rssPages: 2 },
    // A child that made a process group of its own stays in the container's session.
    { pid: 102, pgrp: 102, session: 100, ticks: 1, rssPages: 1 },
    { pid: 200, pgrp: 200, session: 200, ticks: 50, rssPages: 9 },
    { pid: 300, pgrp: 300, session: 1, ticks: 999, rssPages: 99 },
  ];
  test('sums each leader\'s session and group; others are not counted', () => {
    const g = groupUsage(stats, [100, 200, 400]);
    assert.deepEqual(g.get(100), { ticks: 18, rssPages: 8, processes: 3 });
    assert.deepEqual(g.get(200), { ticks: 50, rssPages: 9, processes: 1 });
    assert.deepEqual(g.get(400), { ticks: 0, rssPages: 0, processes: 0 });
    assert.equal(g.has(300), false);
  });
});

describe('readAllPidStats on this machine', () => {
  test('finds this process with its own group', async () => {
    const all = await readAllPidStats();
    const me = all.find((s) => s.pid === process.pid);
    assert.ok(me, 'this process is listed');
    assert.ok(me.ticks >= 0 && me.rssPages > 0);
  });
});
