import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countsStatus, withConditions, msUntilDeadline } from '../../../src/controllers/deployment/conditions.js';
import { newReplicaSetAnnotations, setsToPrune } from '../../../src/controllers/deployment/revisions.js';
import type { DeploymentObj, ReplicaSetObj } from '../../../src/controllers/common/types.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const dep = (over: Partial<NonNullable<DeploymentObj['spec']>> = {}, status?: DeploymentObj['status'], generation = 1): DeploymentObj => ({
  metadata: { name: 'web', generation },
  spec: { replicas: 3, progressDeadlineSeconds: 600, selector: {}, template: {}, ...over },
  ...(status ? { status } : {}),
});
const rs = (name: string, replicas: number, ready: number, available: number): ReplicaSetObj => ({
  metadata: { name }, spec: { replicas, selector: {} }, status: { replicas, readyReplicas: ready, availableReplicas: available },
});

describe('deployment status', () => {
  it('sums the sets and reports unavailable replicas', () => {
    const d = dep();
    const n = rs('new', 2, 1, 1);
    assert.deepEqual(countsStatus(d, [n, rs('old', 2, 2, 2)], n), {
      observedGeneration: 1, replicas: 4, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0,
    });
  });
  it('complete → Available and Progressing NewReplicaSetAvailable', () => {
    const d = dep();
    const n = rs('web-1', 3, 3, 3);
    const next = countsStatus(d, [n], n);
    const conds = withConditions({ deployment: d, next, newRs: n, maxUnavailable: 0, createdNewRs: false, now: T0 });
    assert.equal(conds.find((c) => c.type === 'Available')?.reason, 'MinimumReplicasAvailable');
    const p = conds.find((c) => c.type === 'Progressing');
    assert.equal(p?.reason, 'NewReplicaSetAvailable');
    assert.equal(p?.message, 'ReplicaSet "web-1" has successfully progressed.');
  });
  it('no progress past the deadline → ProgressDeadlineExceeded; progress refreshes the clock', () => {
    const n = rs('web-2', 3, 0, 0);
    const started = dep({}, {
      observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 0, availableReplicas: 0,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'x', lastUpdateTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' }],
    });
    const next = countsStatus(started, [n], n);
    assert.equal(msUntilDeadline(started, started.status!.conditions!, T0 + 1000), 599_000);
    const early = withConditions({ deployment: started, next, newRs: n, maxUnavailable: 0, createdNewRs: false, now: T0 + 599_000 });
    assert.equal(early.find((c) => c.type === 'Progressing')?.reason, 'ReplicaSetUpdated');
    const late = withConditions({ deployment: started, next, newRs: n, maxUnavailable: 0, createdNewRs: false, now: T0 + 601_000 });
    const p = late.find((c) => c.type === 'Progressing');
    assert.equal(p?.status, 'False');
    assert.equal(p?.reason, 'ProgressDeadlineExceeded');
    const moved = countsStatus(started, [rs('web-2', 3, 1, 1)], rs('web-2', 3, 1, 1));
    const after = withConditions({ deployment: started, next: moved, newRs: n, maxUnavailable: 0, createdNewRs: false, now: T0 + 601_000 });
    assert.equal(after.find((c) => c.type === 'Progressing')?.lastUpdateTime, '2024-01-01T00:10:01Z');
  });
  it('paused → Progressing Unknown DeploymentPaused', () => {
    const d = dep({ paused: true });
    const conds = withConditions({ deployment: d, next: countsStatus(d, [], undefined), newRs: undefined, maxUnavailable: 0, createdNewRs: false, now: T0 });
    const p = conds.find((c) => c.type === 'Progressing');
    assert.deepEqual([p?.status, p?.reason], ['Unknown', 'DeploymentPaused']);
  });
});

describe('revision annotations', () => {
  it('a new set gets max+1 and the Deployment annotations except last-applied', () => {
    const a = newReplicaSetAnnotations({ 'kubernetes.io/change-cause': 'set image', 'kubectl.kubernetes.io/last-applied-configuration': '{}' }, {}, 2, { desired: 3, max: 4 });
    assert.deepEqual(a, {
      'kubernetes.io/change-cause': 'set image',
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
  });
  it('a re-used set (rollout undo) takes the next revision and records its old one', () => {
    const a = newReplicaSetAnnotations({}, { 'deployment.kubernetes.io/revision': '1' }, 2, { desired: 3, max: 4 });
    assert.equal(a['deployment.kubernetes.io/revision'], '3');
    assert.equal(a['deployment.kubernetes.io/revision-history'], '1');
  });
  it('the newest set keeps its revision', () => {
    const a = newReplicaSetAnnotations({}, { 'deployment.kubernetes.io/revision': '5' }, 4, { desired: 1, max: 1 });
    assert.equal(a['deployment.kubernetes.io/revision'], '5');
    assert.equal(a['deployment.kubernetes.io/revision-history'], undefined);
  });
  it('prunes idle old sets beyond the history limit, oldest revision first', () => {
    const mk = (name: string, rev: number, replicas = 0): ReplicaSetObj => ({
      metadata: { name, annotations: { 'deployment.kubernetes.io/revision': String(rev) } }, spec: { replicas, selector: {} }, status: { replicas },
    });
    const olds = [mk('r3', 3), mk('r1', 1), mk('r2', 2), mk('busy', 0, 2)];
    assert.deepEqual(setsToPrune(olds, 1).map((s) => s.metadata?.name), ['r1', 'r2']);
    assert.deepEqual(setsToPrune(olds, 10), []);
  });
});
