import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoopResult } from '../../../bench/lib/closed-loop.js';
import type { FanoutRun } from '../../../bench/lib/fanout-driver.js';
import { judgeGoals, round, type OpRow } from '../../../bench/lib/report.js';
import { summarize } from '../../../bench/lib/stats.js';

const loop = (concurrency: number, opsPerSec: number): LoopResult => ({
  concurrency, ops: 1, errors: 0, issued: 1, elapsedMs: 1000, opsPerSec, latency: summarize([1]),
});
const row = (op: OpRow['op'], c: number, api: number, store: number): OpRow => ({ op, concurrency: c, api: loop(c, api), store: loop(c, store), ratio: api / store, cpuUsPerOp: {}, otherCpuPct: {} });
const fanout = (p99: number, missing = 0): FanoutRun => ({
  writes: 10, watchers: 100, pairs: 1000, missing, beforeAck: 0, delay: { ...summarize([1]), p99Ms: p99 },
  allWatchersDelay: summarize([1]), paceMs: 50, writeErrors: 0, writeLatency: summarize([1]), setupMs: 1,
});

test('goals use peak rates over the concurrency levels', () => {
  const rows = [row('create', 1, 100, 1000), row('create', 8, 400, 900), row('get', 1, 3000, 1e5), row('get', 32, 6000, 1e5)];
  const [create, gets, watch] = judgeGoals(rows, fanout(20));
  assert.equal(create?.measured, 40); // 400 / 1000
  assert.equal(create?.pass, true);
  assert.equal(gets?.measured, 6000);
  assert.equal(gets?.pass, true);
  assert.equal(watch?.pass, true);
});

test('goals fail below target and when fan-out events went missing', () => {
  const rows = [row('create', 1, 200, 1000), row('get', 1, 4999, 1e5)];
  const [create, gets, watch] = judgeGoals(rows, fanout(10, 3));
  assert.equal(create?.pass, false);
  assert.equal(gets?.pass, false);
  assert.equal(watch?.pass, false);
  assert.equal(judgeGoals(rows, fanout(50.5))[2]?.pass, false);
});

test('round keeps non-finite values', () => {
  assert.equal(round(1.23456, 2), 1.23);
  assert.ok(Number.isNaN(round(Number.NaN, 2)));
});

test('floor goals: peak API rate over peak floor rate, 70% for creates and 85% for gets', () => {
  const withFloor = (r: OpRow, floor: number): OpRow => ({ ...r, floor: loop(r.concurrency, floor), floorRatio: r.api.opsPerSec / floor });
  const rows = [
    withFloor(row('create', 1, 500, 1000), 900), withFloor(row('create', 8, 700, 1000), 1000),
    withFloor(row('get', 1, 3000, 1e5), 4000), withFloor(row('get', 8, 8000, 1e5), 10000),
  ];
  const goals = judgeGoals(rows, fanout(20));
  const creates = goals.find((g) => g.name === 'creates vs physical floor');
  const gets = goals.find((g) => g.name === 'gets vs physical floor');
  assert.equal(creates?.measured, 70); // 700 / 1000
  assert.equal(creates?.pass, true);
  assert.equal(gets?.measured, 80); // 8000 / 10000
  assert.equal(gets?.pass, false);
});

test('floor goals fail when the floor was not measured', () => {
  const goals = judgeGoals([row('create', 1, 500, 1000), row('get', 1, 3000, 1e5)], fanout(20));
  assert.equal(goals.find((g) => g.name === 'creates vs physical floor')?.pass, false);
  assert.equal(goals.find((g) => g.name === 'gets vs physical floor')?.pass, false);
});
