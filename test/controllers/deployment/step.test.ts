// The Deployment step planner as a table: (deployment, new set, old sets, pods) -> one step.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planStep, splitReplicaSets, type DeploymentStep } from '../../../src/controllers/deployment/step.js';
import type { DeploymentObj, PodObj, ReplicaSetObj } from '../../../src/controllers/common/types.js';

const TEMPLATE = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:2' }] } };
const OLD_TEMPLATE = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1' }] } };

interface DepOpts { replicas?: number; recreate?: boolean; surge?: number | string; unavailable?: number | string; paused?: boolean; deleting?: boolean; history?: number }
const dep = (o: DepOpts = {}): DeploymentObj => ({
  metadata: { name: 'web', namespace: 'default', uid: 'd-uid', ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  spec: {
    replicas: o.replicas ?? 3, selector: { matchLabels: { app: 'web' } }, template: TEMPLATE,
    ...(o.paused ? { paused: true } : {}),
    ...(o.history !== undefined ? { revisionHistoryLimit: o.history } : {}),
    strategy: o.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? 1, maxUnavailable: o.unavailable ?? 0 } },
  },
});

interface RsOpts { replicas: number; available?: number; status?: number; desired?: number; max?: number; minute?: number; template?: typeof TEMPLATE }
const rs = (name: string, o: RsOpts): ReplicaSetObj => ({
  metadata: {
    name, namespace: 'default', uid: `${name}-uid`, creationTimestamp: `2024-01-01T00:${String(o.minute ?? 0).padStart(2, '0')}:00Z`,
    annotations: {
      'deployment.kubernetes.io/revision': '1',
      ...(o.desired !== undefined ? { 'deployment.kubernetes.io/desired-replicas': String(o.desired) } : {}),
      ...(o.max !== undefined ? { 'deployment.kubernetes.io/max-replicas': String(o.max) } : {}),
    },
  },
  spec: { replicas: o.replicas, selector: { matchLabels: { app: 'web' } }, template: o.template ?? OLD_TEMPLATE },
  status: { replicas: o.status ?? o.replicas, availableReplicas: o.available ?? o.replicas },
});
const newSet = (o: RsOpts) => rs('web-new', { minute: 5, template: TEMPLATE, ...o });
const pod = (owner: string, deleting = false): PodObj => ({
  metadata: { name: `${owner}-p`, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `${owner}-uid`, controller: true }], ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  status: { phase: 'Running' },
});

type Want = Partial<DeploymentStep>;
const cases: [string, DeploymentObj, ReplicaSetObj | undefined, ReplicaSetObj[], PodObj[], Want][] = [
  ['being deleted: status only', dep({ deleting: true }), undefined, [rs('web-old', { replicas: 3 })], [],
    { mode: 'deleting', syncRevision: false, scale: [], prune: [] }],

  // RollingUpdate (maxSurge 1, maxUnavailable 0 unless named)
  ['first rollout: create the new set at full size', dep(), undefined, [], [],
    { mode: 'rolling', create: { replicas: 3 }, scale: [], syncRevision: false }],
  ['new template: create the new set with the surge only', dep(), undefined, [rs('web-old', { replicas: 3, desired: 3, max: 4 })], [],
    { mode: 'rolling', create: { replicas: 1 }, scale: [] }],
  ['new set below its share: grow it to the surge ceiling', dep({ surge: 2 }), newSet({ replicas: 1, available: 0, desired: 3, max: 5 }), [rs('web-old', { replicas: 3, desired: 3, max: 5 })], [],
    { mode: 'rolling', syncRevision: true, scale: [{ name: 'web-new', replicas: 2 }] }],
  ['at the ceiling, new pods not available: shrink nothing, wait', dep(), newSet({ replicas: 1, available: 0, desired: 3, max: 4 }), [rs('web-old', { replicas: 3, desired: 3, max: 4 })], [],
    { mode: 'rolling', syncRevision: true, scale: [], waiting: 'oldPodsAvailable' }],
  ['at the ceiling, a new pod available: shrink the old set by one', dep(), newSet({ replicas: 1, available: 1, desired: 3, max: 4 }), [rs('web-old', { replicas: 3, desired: 3, max: 4 })], [],
    { mode: 'rolling', syncRevision: true, scale: [{ name: 'web-old', replicas: 2 }] }],
  ['maxUnavailable 1, one new pod unavailable: shrink one old set, oldest first', dep({ surge: 0, unavailable: 1 }), newSet({ replicas: 2, available: 1, desired: 3, max: 3 }),
    [rs('web-a', { replicas: 1, minute: 1, desired: 3, max: 3 }), rs('web-b', { replicas: 1, minute: 2, desired: 3, max: 3 })], [],
    { mode: 'rolling', scale: [{ name: 'web-a', replicas: 0 }] }],
  ['new set above replicas: trim it', dep(), newSet({ replicas: 5, desired: 3, max: 4 }), [], [],
    { mode: 'rolling', syncRevision: true, scale: [{ name: 'web-new', replicas: 3 }] }],
  ['complete: prune idle sets beyond revisionHistoryLimit', dep({ history: 1 }), newSet({ replicas: 3, desired: 3, max: 4 }),
    [rs('web-a', { replicas: 0, minute: 1 }), rs('web-b', { replicas: 0, minute: 2 })], [],
    { mode: 'rolling', syncRevision: true, scale: [], prune: ['web-a'] }],
  ['complete but an idle set still has pods: not pruned', dep({ history: 0 }), newSet({ replicas: 3, desired: 3, max: 4 }),
    [rs('web-a', { replicas: 0, status: 1, minute: 1 })], [],
    { mode: 'rolling', scale: [], prune: [] }],
  ['new set sized but not yet available: wait', dep(), newSet({ replicas: 3, available: 2, desired: 3, max: 4 }), [], [],
    { mode: 'rolling', syncRevision: true, scale: [], prune: [], waiting: 'newPodsAvailable' }],

  // Recreate
  ['recreate: scale every old set to 0 first', dep({ recreate: true }), undefined,
    [rs('web-a', { replicas: 2, minute: 1 }), rs('web-b', { replicas: 1, minute: 2 }), rs('web-c', { replicas: 0, minute: 3 })], [],
    { mode: 'recreate', syncRevision: false, scale: [{ name: 'web-a', replicas: 0 }, { name: 'web-b', replicas: 0 }] }],
  ['recreate: old sets at 0 but a pod still terminating: wait', dep({ recreate: true }), undefined, [rs('web-a', { replicas: 0, status: 0 })], [pod('web-a', true)],
    { mode: 'recreate', scale: [], waiting: 'oldPodsRunning' }],
  ['recreate: a stranger\'s pod does not hold it up', dep({ recreate: true }), undefined, [rs('web-a', { replicas: 0, status: 0 })], [pod('other')],
    { mode: 'recreate', create: { replicas: 3 }, scale: [] }],
  ['recreate: old pods gone, new set exists at 0: size it', dep({ recreate: true }), newSet({ replicas: 0 }), [rs('web-a', { replicas: 0, status: 0 })], [],
    { mode: 'recreate', syncRevision: true, scale: [{ name: 'web-new', replicas: 3 }] }],
  ['recreate: complete: prune (default limit 10 keeps both)', dep({ recreate: true }), newSet({ replicas: 3 }), [rs('web-a', { replicas: 0 })], [],
    { mode: 'recreate', syncRevision: true, scale: [], prune: [] }],

  // Scaling and pausing
  ['spec.replicas changed, one active set: resize it', dep({ replicas: 5 }), newSet({ replicas: 3, desired: 3, max: 4 }), [], [],
    { mode: 'scaling', syncRevision: true, scale: [{ name: 'web-new', replicas: 5 }], prune: [] }],
  ['spec.replicas 10 -> 6 mid-rollout: 7 allowed, spread in proportion, bigger shrink first', dep({ replicas: 6, surge: 1 }),
    newSet({ replicas: 2, available: 0, desired: 10, max: 11 }), [rs('web-old', { replicas: 9, desired: 10, max: 11 })], [],
    { mode: 'scaling', scale: [{ name: 'web-old', replicas: 6 }, { name: 'web-new', replicas: 1 }] }],
  ['scaling with the new set full and available: old sets to 0', dep({ replicas: 2 }),
    newSet({ replicas: 2, desired: 3, max: 4 }), [rs('web-old', { replicas: 1, desired: 3, max: 4 })], [],
    { mode: 'scaling', scale: [{ name: 'web-old', replicas: 0 }] }],
  ['paused with a new template: no new set; sizes kept; history pruned', dep({ paused: true, history: 0 }), undefined,
    [rs('web-old', { replicas: 3, desired: 3, max: 4, minute: 2 }), rs('web-idle', { replicas: 0, minute: 1 })], [],
    { mode: 'paused', syncRevision: false, create: undefined, scale: [], prune: ['web-idle'], waiting: 'nothingToDo' }],
  ['paused, scaled: the only active (old) set follows spec.replicas', dep({ paused: true, replicas: 4 }), undefined, [rs('web-old', { replicas: 3, desired: 3, max: 4 })], [],
    { mode: 'paused', scale: [{ name: 'web-old', replicas: 4 }] }],
  ['paused, old set with stale size annotations: rewritten in place', dep({ paused: true, replicas: 3 }), undefined, [rs('web-old', { replicas: 3, desired: 2, max: 4 })], [],
    { mode: 'paused', scale: [{ name: 'web-old', replicas: 3 }] }],
];

describe('deployment step planner', () => {
  for (const [name, d, newRs, olds, pods, want] of cases) {
    it(name, () => {
      const input = { deployment: d, newRs, olds, pods };
      const before = structuredClone(input);
      const step = planStep(input);
      assert.deepEqual(input, before, 'the planner must not modify its input');
      for (const [k, v] of Object.entries(want)) assert.deepEqual(step[k as keyof DeploymentStep], v, `${k} of ${JSON.stringify(step)}`);
    });
  }
});

describe('splitReplicaSets', () => {
  it('the oldest set with the Deployment\'s template is the new one; the rest are old, oldest first', () => {
    const a = rs('web-a', { replicas: 0, minute: 3 });
    const n1 = rs('web-n1', { replicas: 1, minute: 2, template: TEMPLATE });
    const n2 = rs('web-n2', { replicas: 1, minute: 4, template: TEMPLATE });
    const b = rs('web-b', { replicas: 0, minute: 1 });
    const out = splitReplicaSets(dep(), [a, n2, n1, b]);
    assert.equal(out.newRs, n1);
    assert.deepEqual(out.olds.map((s) => s.metadata?.name), ['web-b', 'web-a', 'web-n2']);
  });
});
