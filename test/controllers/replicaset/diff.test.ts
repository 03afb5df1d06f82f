import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { podsToDelete, replicaDiff, slowStartBatches } from '../../../src/controllers/replicaset/diff.js';
import { replicaSetStatus } from '../../../src/controllers/replicaset/status.js';
import { pod } from '../fixtures.js';

describe('replicaDiff', () => {
  it('creates the shortfall, capped by the burst', () => {
    assert.deepEqual(replicaDiff([pod(), pod()], 5), { action: 'create', count: 3 });
    assert.deepEqual(replicaDiff([], 1000, 500), { action: 'create', count: 500 });
  });
  it('does nothing at the desired count', () => {
    assert.deepEqual(replicaDiff([pod(), pod()], 2), { action: 'none' });
  });
  it('deletes the surplus, lowest-ranked first', () => {
    const running = pod({ name: 'running', node: 'n1', ready: true });
    const pending = pod({ name: 'pending', node: 'n1', phase: 'Pending' });
    const d = replicaDiff([running, pending], 1);
    assert.equal(d.action, 'delete');
    assert.deepEqual(d.action === 'delete' ? d.pods.map((p) => p.metadata?.name) : [], ['pending']);
  });
});

describe('slowStartBatches', () => {
  it('doubles from 1 and ends with what is left', () => {
    assert.deepEqual(slowStartBatches(1), [1]);
    assert.deepEqual(slowStartBatches(10), [1, 2, 4, 3]);
    assert.deepEqual(slowStartBatches(15), [1, 2, 4, 8]);
    assert.deepEqual(slowStartBatches(0), []);
  });
});

describe('deletion ranking (Kubernetes ActivePodsWithRanks)', () => {
  it('orders unscheduled < pending < not ready < ready-recently < more restarts < newer', () => {
    const pods = [
      pod({ name: 'ready-old', node: 'a', ready: true, readySince: '2024-01-01T00:00:00Z' }),
      pod({ name: 'unscheduled' }),
      pod({ name: 'ready-recent', node: 'b', ready: true, readySince: '2024-01-02T00:00:00Z' }),
      pod({ name: 'pending', node: 'c', phase: 'Pending' }),
      pod({ name: 'running-not-ready', node: 'd', phase: 'Running' }),
      pod({ name: 'not-ready-restarts', node: 'e', phase: 'Running', restarts: 5 }),
    ];
    assert.deepEqual(podsToDelete(pods, 6).map((p) => p.metadata?.name), [
      'unscheduled', 'pending', 'not-ready-restarts', 'running-not-ready', 'ready-recent', 'ready-old',
    ]);
  });
  it('deletes newer pods first when all else is equal', () => {
    const older = pod({ name: 'older', node: 'a', ready: true, created: '2024-01-01T00:00:00Z' });
    const newer = pod({ name: 'newer', node: 'b', ready: true, created: '2024-01-03T00:00:00Z' });
    assert.deepEqual(podsToDelete([older, newer], 1).map((p) => p.metadata?.name), ['newer']);
  });
  it('prefers nodes with more sibling pods, and honours pod-deletion-cost', () => {
    const a1 = pod({ name: 'a1', node: 'a', ready: true });
    const a2 = pod({ name: 'a2', node: 'a', ready: true });
    const b1 = pod({ name: 'b1', node: 'b', ready: true });
    assert.deepEqual(podsToDelete([b1, a1, a2], 1).map((p) => p.metadata?.name), ['a1']);
    const cheap = pod({ name: 'cheap', node: 'b', ready: true, cost: -10 });
    assert.deepEqual(podsToDelete([b1, a1, a2, cheap], 1).map((p) => p.metadata?.name), ['cheap']);
  });
});

describe('replicaSetStatus', () => {
  it('counts ready, available (minReadySeconds) and fully labeled pods', () => {
    const now = Date.parse('2024-01-01T00:01:00Z');
    const rs = {
      metadata: { name: 'rs', generation: 4 },
      spec: { replicas: 3, minReadySeconds: 30, selector: {}, template: { metadata: { labels: { app: 'x', tier: 'web' } } } },
    };
    const pods = [
      pod({ labels: { app: 'x', tier: 'web' }, ready: true, readySince: '2024-01-01T00:00:00Z' }), // available
      pod({ labels: { app: 'x', tier: 'web' }, ready: true, readySince: '2024-01-01T00:00:50Z' }), // ready, not yet available
      pod({ labels: { app: 'x' } }),
    ];
    assert.deepEqual(replicaSetStatus(rs, pods, now), {
      replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4,
    });
  });
});
