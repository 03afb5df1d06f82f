import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { milestonesOf, PodTimeline } from '../../../bench/lib/pod-timeline.js';

const pod = (name: string, extra: { nodeName?: string; phase?: string; running?: boolean; ready?: boolean } = {}): Pod => ({
  metadata: { name },
  spec: { containers: [{ name: 'app' }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
  status: {
    ...(extra.phase ? { phase: extra.phase } : {}),
    ...(extra.running ? { containerStatuses: [{ name: 'app', image: 'node', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] } : {}),
    ...(extra.ready !== undefined ? { conditions: [{ type: 'Ready', status: extra.ready ? 'True' : 'False' }] } : {}),
  },
});

describe('milestonesOf', () => {
  it('reads each milestone from the pod object', () => {
    assert.deepEqual([...milestonesOf(pod('a'))], []);
    assert.deepEqual([...milestonesOf(pod('a', { nodeName: 'n1', phase: 'Pending' }))], ['scheduled']);
    assert.deepEqual([...milestonesOf(pod('a', { nodeName: 'n1', phase: 'Running', running: true, ready: false }))].sort(), ['running', 'scheduled', 'started']);
    assert.deepEqual([...milestonesOf(pod('a', { nodeName: 'n1', phase: 'Running', running: true, ready: true }))].sort(), ['ready', 'running', 'scheduled', 'started']);
  });
});

describe('PodTimeline', () => {
  it('keeps the first time each milestone is seen and measures from the ack', () => {
    const t = new PodTimeline();
    t.created('a', 0);
    t.event('ADDED', pod('a'), 3);
    t.acked('a', 5);
    t.event('MODIFIED', pod('a', { nodeName: 'n1' }), 15);
    t.event('MODIFIED', pod('a', { nodeName: 'n1', phase: 'Running', running: true, ready: false }), 105);
    t.event('MODIFIED', pod('a', { nodeName: 'n1', phase: 'Running', running: true, ready: true }), 1105);
    t.event('MODIFIED', pod('a', { nodeName: 'n1', phase: 'Running', running: true, ready: true }), 2000);
    assert.deepEqual(t.get('a'), { sentMs: 0, ackMs: 5, scheduledMs: 15, startedMs: 105, runningMs: 105, readyMs: 1105 });
    assert.equal(t.latency('scheduled').summary.p50Ms, 10);
    assert.equal(t.latency('running').summary.p99Ms, 100);
    assert.equal(t.latency('ready').summary.maxMs, 1100);
    assert.equal(t.between('running', 'ready').p50Ms, 1000);
  });

  it('ignores pods it was not told about and counts acked pods that never got there as missing', () => {
    const t = new PodTimeline();
    t.created('a', 0);
    t.acked('a', 1);
    t.created('b', 0);
    t.acked('b', 2);
    t.created('failed', 0);
    t.event('MODIFIED', pod('other', { nodeName: 'n1', phase: 'Running' }), 10);
    t.event('MODIFIED', pod('a', { nodeName: 'n1', phase: 'Running' }), 11);
    assert.equal(t.get('other'), undefined);
    assert.equal(t.count('running'), 1);
    const running = t.latency('running');
    assert.equal(running.summary.count, 1);
    assert.equal(running.missing, 1);
  });

  it('records deletion once', () => {
    const t = new PodTimeline();
    t.created('a', 0);
    t.event('DELETED', pod('a', { nodeName: 'n1' }), 50);
    t.event('DELETED', pod('a'), 60);
    assert.equal(t.count('deleted'), 1);
    assert.equal(t.get('a')?.deletedMs, 50);
    // A DELETED event's object does not count as reaching a milestone.
    assert.equal(t.count('scheduled'), 0);
  });
});
