// The delete plan of every kind, as a table: (strategy, object, request) -> remove, or mark
// with which deletionTimestamp, grace, finalizers and why.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/object.js';
import { FOREGROUND_FINALIZER, NAMESPACE_FINALIZER, ORPHAN_FINALIZER } from '../../../src/api/finalizers.js';
import { planDelete, readyToRemove, type DeletePlan, type DeleteRequest } from '../../../src/apiserver/strategies/delete-plan.js';
import { NAMESPACE } from '../../../src/apiserver/strategies/namespace.js';
import { POD } from '../../../src/apiserver/strategies/pod.js';

const NOW = Date.UTC(2024, 0, 1, 0, 0, 0);
const at = (s: number) => new Date(NOW + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const EARLIER = '2023-12-31T23:59:00Z';

const cm = (meta: KubeObject['metadata'] = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...meta } });
const pod = (o: { node?: string; phase?: string; grace?: number; meta?: KubeObject['metadata'] } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...o.meta },
  spec: { containers: [{ name: 'c' }], ...(o.node ? { nodeName: o.node } : {}), ...(o.grace !== undefined ? { terminationGracePeriodSeconds: o.grace } : {}) },
  status: { phase: o.phase ?? 'Running' },
});
const ns = (meta: KubeObject['metadata'] = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', ...meta }, spec: { finalizers: [NAMESPACE_FINALIZER] }, status: { phase: 'Active' } });

type Plan = (current: KubeObject, req: DeleteRequest, now: number) => DeletePlan;
interface Mark { reason: string; deletionTimestamp: string; grace: number; finalizers?: string[]; phase?: string }

const cases: [string, Plan, KubeObject, DeleteRequest, 'remove' | Mark][] = [
  ['no finalizers: removed now', planDelete, cm(), {}, 'remove'],
  ['Background policy adds nothing: removed now', planDelete, cm(), { propagationPolicy: 'Background' }, 'remove'],
  ['a user finalizer: marked at now, grace 0', planDelete, cm({ finalizers: ['example.com/x'] }), {}, { reason: 'finalizers', deletionTimestamp: at(0), grace: 0, finalizers: ['example.com/x'] }],
  ['Orphan adds its finalizer', planDelete, cm(), { propagationPolicy: 'Orphan' }, { reason: 'finalizers', deletionTimestamp: at(0), grace: 0, finalizers: [ORPHAN_FINALIZER] }],
  ['Foreground adds its finalizer after existing ones', planDelete, cm({ finalizers: ['a'] }), { propagationPolicy: 'Foreground' }, { reason: 'finalizers', deletionTimestamp: at(0), grace: 0, finalizers: ['a', FOREGROUND_FINALIZER] }],
  ['a policy finalizer is added once', planDelete, cm({ finalizers: [ORPHAN_FINALIZER] }), { propagationPolicy: 'Orphan' }, { reason: 'finalizers', deletionTimestamp: at(0), grace: 0, finalizers: [ORPHAN_FINALIZER] }],
  ['already marked: keeps its first deletionTimestamp', planDelete, cm({ finalizers: ['a'], deletionTimestamp: EARLIER, deletionGracePeriodSeconds: 0 }), {}, { reason: 'finalizers', deletionTimestamp: EARLIER, grace: 0, finalizers: ['a'] }],
  ['the grace period means nothing without a node', planDelete, cm(), { gracePeriodSeconds: 30 }, 'remove'],

  ['pod not bound to a node: removed now', POD.planDelete, pod(), {}, 'remove'],
  ['pod on a node: marked for its terminationGracePeriodSeconds', POD.planDelete, pod({ node: 'n1', grace: 5 }), {}, { reason: 'graceful', deletionTimestamp: at(5), grace: 5 }],
  ['pod on a node, no grace named: 30 s', POD.planDelete, pod({ node: 'n1' }), {}, { reason: 'graceful', deletionTimestamp: at(30), grace: 30 }],
  ['the request grace beats the pod\'s', POD.planDelete, pod({ node: 'n1', grace: 5 }), { gracePeriodSeconds: 2 }, { reason: 'graceful', deletionTimestamp: at(2), grace: 2 }],
  ['grace 0 on a node: removed now (forced, or the node confirming)', POD.planDelete, pod({ node: 'n1', meta: { deletionTimestamp: at(5), deletionGracePeriodSeconds: 5 } }), { gracePeriodSeconds: 0 }, 'remove'],
  ['grace 0 with a finalizer left: marked, waiting for it', POD.planDelete, pod({ node: 'n1', meta: { finalizers: ['a'] } }), { gracePeriodSeconds: 0 }, { reason: 'finalizers', deletionTimestamp: at(0), grace: 0, finalizers: ['a'] }],
  ['a second delete may shorten the grace', POD.planDelete, pod({ node: 'n1', meta: { deletionTimestamp: at(30), deletionGracePeriodSeconds: 30 } }), { gracePeriodSeconds: 3 }, { reason: 'graceful', deletionTimestamp: at(3), grace: 3 }],
  ['... but never lengthen it', POD.planDelete, pod({ node: 'n1', meta: { deletionTimestamp: at(3), deletionGracePeriodSeconds: 3 } }), { gracePeriodSeconds: 60 }, { reason: 'graceful', deletionTimestamp: at(3), grace: 3 }],
  ['finished pod on a node: removed now', POD.planDelete, pod({ node: 'n1', phase: 'Succeeded' }), {}, 'remove'],
  ['failed pod with Orphan: marked for the finalizer only', POD.planDelete, pod({ node: 'n1', phase: 'Failed' }), { propagationPolicy: 'Orphan' }, { reason: 'finalizers', deletionTimestamp: at(0), grace: 0, finalizers: [ORPHAN_FINALIZER] }],
  ['running pod with Foreground: graceful, and the finalizer added', POD.planDelete, pod({ node: 'n1', grace: 1 }), { propagationPolicy: 'Foreground' }, { reason: 'graceful', deletionTimestamp: at(1), grace: 1, finalizers: [FOREGROUND_FINALIZER] }],

  ['namespace: always marked Terminating', NAMESPACE.planDelete, ns(), {}, { reason: 'terminating', deletionTimestamp: at(0), grace: 0, phase: 'Terminating' }],
  ['namespace with Orphan: Terminating, finalizer added', NAMESPACE.planDelete, ns(), { propagationPolicy: 'Orphan' }, { reason: 'terminating', deletionTimestamp: at(0), grace: 0, finalizers: [ORPHAN_FINALIZER], phase: 'Terminating' }],
  ['namespace deleted again: first deletionTimestamp kept', NAMESPACE.planDelete, ns({ deletionTimestamp: EARLIER, deletionGracePeriodSeconds: 0 }), {}, { reason: 'terminating', deletionTimestamp: EARLIER, grace: 0, phase: 'Terminating' }],
];

describe('delete plans', () => {
  for (const [name, plan, current, req, want] of cases) {
    it(name, () => {
      const before = structuredClone(current);
      const got = plan(current, req, NOW);
      assert.deepEqual(current, before, 'the plan must not modify its input');
      if (want === 'remove') {
        assert.deepEqual(got, { action: 'remove' });
        return;
      }
      assert.equal(got.action, 'mark');
      if (got.action !== 'mark') return;
      assert.equal(got.reason, want.reason);
      const meta = got.object.metadata!;
      assert.equal(meta.deletionTimestamp, want.deletionTimestamp);
      assert.equal(meta.deletionGracePeriodSeconds, want.grace);
      assert.deepEqual(meta.finalizers, want.finalizers ?? current.metadata?.finalizers);
      if (want.phase) assert.equal((got.object.status as { phase?: string }).phase, want.phase);
      // Everything but metadata (and a namespace's phase) is the object as it was.
      assert.deepEqual({ ...got.object, metadata: undefined, status: undefined }, { ...current, metadata: undefined, status: undefined });
    });
  }
});

describe('removal on update of a marked object', () => {
  const cases: [string, (o: KubeObject) => boolean, KubeObject, boolean][] = [
    ['not marked: stored', readyToRemove, cm({ finalizers: [] }), false],
    ['marked, a finalizer left: stored', readyToRemove, cm({ deletionTimestamp: EARLIER, finalizers: ['a'] }), false],
    ['marked, last finalizer gone: removed', readyToRemove, cm({ deletionTimestamp: EARLIER, finalizers: [] }), true],
    ['graceful deletion under way (grace 30), no finalizers: stored until a delete ends it', readyToRemove, cm({ deletionTimestamp: EARLIER, deletionGracePeriodSeconds: 30, finalizers: [] }), false],
    ['marked with grace 0, no finalizers: removed', readyToRemove, cm({ deletionTimestamp: EARLIER, deletionGracePeriodSeconds: 0, finalizers: [] }), true],
    ['namespace still holding spec.finalizers: stored', NAMESPACE.readyToRemove, ns({ deletionTimestamp: EARLIER }), false],
    ['namespace finalized: removed', NAMESPACE.readyToRemove, { ...ns({ deletionTimestamp: EARLIER }), spec: { finalizers: [] } }, true],
    ['namespace finalized but a metadata finalizer left: stored', NAMESPACE.readyToRemove, { ...ns({ deletionTimestamp: EARLIER, finalizers: ['a'] }), spec: {} }, false],
  ];
  for (const [name, fn, obj, want] of cases) it(name, () => assert.equal(fn(obj), want));
});
