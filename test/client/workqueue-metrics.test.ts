// Work queue metrics: depth read when scraped, adds counted once per queued key, retries per
// rate-limited re-add, and counts that outlive a detached queue.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { WorkQueue } from '../../src/client/workqueue.js';
import { WorkQueueMetrics } from '../../src/client/workqueue-metrics.js';
import { FakeClock } from '../../src/util/clock.js';
import { parseExposition } from '../../src/ops/alerts/exposition.js';

async function value(r: Registry, name: string, queue: string): Promise<number | undefined> {
  return parseExposition(await r.metrics()).find((s) => s.labels.__name__ === name && s.labels.name === queue)?.value;
}

describe('WorkQueueMetrics', () => {
  it('depth, adds and retries', async () => {
    const r = new Registry();
    const m = new WorkQueueMetrics(r);
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10 });
    const detach = m.attach('replicaset', q);
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(await value(r, 'workqueue_depth', 'replicaset'), 2);
    assert.equal(await value(r, 'workqueue_adds_total', 'replicaset'), 2);
    const k = await q.get();
    q.addRateLimited(k!);
    q.done(k!);
    assert.equal(await value(r, 'workqueue_retries_total', 'replicaset'), 1);
    clock.advance(10);
    assert.equal(await value(r, 'workqueue_adds_total', 'replicaset'), 3);
    detach();
    assert.equal(await value(r, 'workqueue_depth', 'replicaset'), undefined);
    const q2 = new WorkQueue({ clock });
    m.attach('replicaset', q2);
    q2.add('c');
    assert.equal(await value(r, 'workqueue_adds_total', 'replicaset'), 4, 'counts go on across terms');
  });
});
