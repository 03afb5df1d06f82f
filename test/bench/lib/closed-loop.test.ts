import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runClosedLoop } from '../../../bench/lib/closed-loop.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('runs N clients for the duration and never has more than N in flight', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const r = await runClosedLoop({
    concurrency: 4, durationMs: 200, warmupMs: 0, maxOps: 1_000_000,
    op: async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(5);
      inFlight--;
    },
  });
  assert.equal(maxInFlight, 4);
  assert.equal(r.errors, 0);
  assert.ok(r.ops > 20 && r.ops < 400, `ops ${r.ops}`);
  assert.ok(r.elapsedMs >= 200 && r.elapsedMs < 400, `elapsed ${r.elapsedMs}`);
  assert.ok(r.latency.p50Ms >= 4, `p50 ${r.latency.p50Ms}`);
  assert.ok(Math.abs(r.opsPerSec - r.ops / (r.elapsedMs / 1000)) < 1e-6);
});

test('stops at maxOps and gives every seq once', async () => {
  const seen: number[] = [];
  const r = await runClosedLoop({ concurrency: 3, durationMs: 10_000, warmupMs: 0, maxOps: 50, op: async (seq) => void seen.push(seq) });
  assert.equal(r.ops, 50);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
});

test('failures are counted apart and the first message kept', async () => {
  const r = await runClosedLoop({
    concurrency: 1, durationMs: 10_000, warmupMs: 0, maxOps: 10,
    op: async (seq) => {
      if (seq % 2 === 1) throw new Error(`boom ${seq}`);
    },
  });
  assert.equal(r.ops, 5);
  assert.equal(r.errors, 5);
  assert.equal(r.latency.count, 5);
  assert.equal(r.firstError, 'boom 1');
});

test('operations started in the warm-up are not counted', async () => {
  const r = await runClosedLoop({ concurrency: 1, durationMs: 100, warmupMs: 100, maxOps: 1_000_000, op: () => sleep(10) });
  // ~100 ms measured at ~10 ms per op: about 10, certainly not the ~20 of warm-up + measured.
  assert.ok(r.ops >= 5 && r.ops <= 12, `ops ${r.ops}`);
});

test('issued counts warm-up operations too', async () => {
  const r = await runClosedLoop({ concurrency: 1, durationMs: 10_000, warmupMs: 10_000, maxOps: 7, op: async () => undefined });
  assert.equal(r.issued, 7);
  assert.equal(r.ops, 0);
});
