import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../src/util/clock.js';
import { SchedulingQueue } from '../../src/scheduler/queue.js';
import { info, pod } from './fixtures.js';

test('higher priority first, then FIFO', () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  q.add(info(pod('a')));
  q.add(info(pod('b', { priority: 10 })));
  q.add(info(pod('c')));
  assert.deepEqual([q.pop()?.name, q.pop()?.name, q.pop()?.name, q.pop()], ['b', 'a', 'c', undefined]);
});

test('unschedulable pods wait for a cluster change, then their back-off', () => {
  const clock = new FakeClock();
  let ready = 0;
  const q = new SchedulingQueue({ clock, initialBackoffMs: 1000, onReady: () => ready++ });
  q.add(info(pod('a')));
  q.pop();
  q.requeueUnschedulable('default/a');
  assert.equal(q.pop(), undefined);
  assert.equal(q.unschedulableCount, 1);
  clock.advance(500);
  q.moveAllToActive();
  assert.equal(q.pop(), undefined, 'still backing off (1 s since the attempt)');
  clock.advance(500);
  assert.equal(q.pop()?.name, 'a');
  assert.ok(ready >= 2);
});

test('back-off doubles per attempt up to the maximum', () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock, initialBackoffMs: 1000, maxBackoffMs: 3000 });
  assert.deepEqual([1, 2, 3, 4].map((n) => q.backoffMs(n)), [1000, 2000, 3000, 3000]);
  q.add(info(pod('a')));
  q.pop();
  q.requeueBackoff('default/a');
  clock.advance(999);
  assert.equal(q.pop(), undefined);
  clock.advance(1);
  assert.equal(q.pop()?.name, 'a');
  q.requeueBackoff('default/a');
  clock.advance(1999);
  assert.equal(q.pop(), undefined);
  clock.advance(1);
  assert.equal(q.pop()?.name, 'a');
});

test('a change while in flight sends an unschedulable pod to back-off instead of parking it', () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock, initialBackoffMs: 100 });
  q.add(info(pod('a')));
  q.pop();
  q.moveAllToActive();
  q.requeueUnschedulable('default/a');
  assert.equal(q.unschedulableCount, 0);
  clock.advance(100);
  assert.equal(q.pop()?.name, 'a');
});

test('status-only updates keep a pod parked; spec updates and the periodic flush retry it', () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock, maxUnschedulableMs: 10_000 });
  q.add(info(pod('a')));
  q.pop();
  q.requeueUnschedulable('default/a');
  q.update(info(pod('a')), false);
  assert.equal(q.pop(), undefined);
  q.update(info(pod('a', { nodeSelector: { x: 'y' } })), true);
  assert.equal(q.pop()?.name, 'a');
  q.requeueUnschedulable('default/a');
  clock.advance(10_000);
  assert.equal(q.pop()?.name, 'a');
});

test('delete removes a pod wherever it is; done forgets an in-flight one', () => {
  const q = new SchedulingQueue({ clock: new FakeClock() });
  q.add(info(pod('a')));
  q.add(info(pod('b')));
  q.delete('default/a');
  assert.equal(q.pop()?.name, 'b');
  q.done('default/b');
  assert.equal(q.size, 0);
});
