import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Samples, elapsedMs, percentileSorted, summarize } from '../../../bench/lib/stats.js';

test('percentileSorted is nearest-rank', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentileSorted(v, 50), 50);
  assert.equal(percentileSorted(v, 99), 99);
  assert.equal(percentileSorted(v, 100), 100);
  assert.equal(percentileSorted(v, 0), 1);
  assert.equal(percentileSorted([7], 99), 7);
  assert.ok(Number.isNaN(percentileSorted([], 50)));
});

test('summarize sorts numerically, not as strings', () => {
  const s = summarize([10, 9, 100, 2, 1]);
  assert.equal(s.count, 5);
  assert.equal(s.p50Ms, 9);
  assert.equal(s.maxMs, 100);
  assert.equal(s.meanMs, 24.4);
});

test('summarize of nothing is NaN, count 0', () => {
  const s = summarize([]);
  assert.equal(s.count, 0);
  assert.ok(Number.isNaN(s.p99Ms) && Number.isNaN(s.meanMs) && Number.isNaN(s.maxMs));
});

test('Samples grows past its initial capacity and keeps order', () => {
  const s = new Samples(2);
  for (let i = 0; i < 1000; i++) s.add(i);
  assert.equal(s.length, 1000);
  const v = s.values();
  assert.equal(v.length, 1000);
  assert.equal(v[0], 0);
  assert.equal(v[999], 999);
});

test('elapsedMs converts nanoseconds', () => {
  assert.equal(elapsedMs(1_000_000n, 3_500_000n), 2.5);
});
