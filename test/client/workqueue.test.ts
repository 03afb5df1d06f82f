import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, runWorkers } from '../../src/client/workqueue.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';

test('a key is queued once and re-processed if added while processing', async () => {
  const q = new WorkQueue();
  q.add('a'); q.add('a'); q.add('b');
  assert.equal(q.length, 2);
  const k = await q.get();
  assert.equal(k, 'a');
  q.add('a'); // while processing: not handed out now
  assert.equal(await q.get(), 'b');
  q.done('b');
  assert.equal(q.length, 0);
  q.done('a');
  assert.equal(await q.get(), 'a');
});

test('rate-limited re-adds back off exponentially per key and forget resets', () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 50 });
  q.addRateLimited('k');
  clock.advance(9); assert.equal(q.length, 0);
  clock.advance(1); assert.equal(q.length, 1);
  void q.get(); q.done('k');
  q.addRateLimited('k'); clock.advance(19); assert.equal(q.length, 0); clock.advance(1); assert.equal(q.length, 1);
  void q.get(); q.done('k');
  for (let i = 0; i < 5; i++) q.addRateLimited('k');
  assert.equal(q.failuresOf('k'), 7);
  q.forget('k');
  assert.equal(q.failuresOf('k'), 0);
});

test('runWorkers never runs one key twice at once, retries failures, and stops on shutDown', async () => {
  const q = new WorkQueue({ baseDelayMs: 1 });
  const running = new Set<string>();
  let overlap = false;
  const seen: string[] = [];
  let failOnce = true;
  const done = runWorkers(q, 4, async (key) => {
    if (running.has(key)) overlap = true;
    running.add(key);
    await new Promise((r) => setTimeout(r, 2));
    running.delete(key);
    seen.push(key);
    if (key === 'x' && failOnce) { failOnce = false; throw new Error('boom'); }
  }, silentLogger);
  for (let i = 0; i < 20; i++) q.add(i % 2 ? 'x' : 'y');
  await new Promise((r) => setTimeout(r, 100));
  q.shutDown();
  await done;
  assert.equal(overlap, false);
  assert.ok(seen.filter((k) => k === 'x').length >= 2, 'x retried after failing');
});
