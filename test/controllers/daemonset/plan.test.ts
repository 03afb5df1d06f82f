import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeEligibility, tolerates } from '../../../src/controllers/daemonset/eligibility.js';
import { pinnedAffinity, targetNode } from '../../../src/controllers/daemonset/pin.js';
import { planDaemonSet } from '../../../src/controllers/daemonset/plan.js';
import type { DaemonSetObj, NodeObj } from '../../../src/controllers/common/types.js';
import { pod } from '../fixtures.js';

const node = (name: string, labels: Record<string, string> = {}, taints: { key: string; effect: string; value?: string }[] = []): NodeObj =>
  ({ metadata: { name, labels }, spec: { taints } });

const ds = (spec: Partial<NonNullable<DaemonSetObj['spec']>> = {}, template: NonNullable<DaemonSetObj['spec']>['template']['spec'] = { containers: [] }): DaemonSetObj => ({
  metadata: { name: 'ds', namespace: 'default', uid: 'ds-uid', generation: 2 },
  spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: template }, ...spec },
});

describe('nodeEligibility', () => {
  it('honours nodeSelector and required node affinity', () => {
    const tmpl = { metadata: {}, spec: { containers: [], nodeSelector: { disk: 'ssd' } } };
    assert.equal(nodeEligibility(node('a', { disk: 'ssd' }), tmpl).shouldRun, true);
    assert.deepEqual(nodeEligibility(node('b'), tmpl), { shouldRun: false, shouldContinueRunning: false });
    const aff = { metadata: {}, spec: { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }] } } } } };
    assert.equal(nodeEligibility(node('a', { zone: 'z2' }), aff).shouldRun, true);
    assert.equal(nodeEligibility(node('a', { zone: 'z1' }), aff).shouldRun, false);
  });
  it('tolerates the standard daemon taints (not-ready, unreachable, unschedulable)', () => {
    const tmpl = { spec: { containers: [] } };
    for (const [key, effect] of [['node.kubernetes.io/not-ready', 'NoExecute'], ['node.kubernetes.io/unreachable', 'NoExecute'], ['node.kubernetes.io/unschedulable', 'NoSchedule']] as const) {
      assert.equal(nodeEligibility(node('a', {}, [{ key, effect }]), tmpl).shouldRun, true, key);
    }
  });
  it('an untolerated NoSchedule taint stops new pods but keeps running ones; NoExecute evicts', () => {
    const tmpl = { spec: { containers: [] } };
    assert.deepEqual(nodeEligibility(node('a', {}, [{ key: 'dedicated', effect: 'NoSchedule' }]), tmpl), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeEligibility(node('a', {}, [{ key: 'dedicated', effect: 'NoExecute' }]), tmpl), { shouldRun: false, shouldContinueRunning: false });
    assert.equal(nodeEligibility(node('a', {}, [{ key: 'x', effect: 'PreferNoSchedule' }]), tmpl).shouldRun, true);
    const tolerating = { spec: { containers: [], tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }] } };
    assert.equal(nodeEligibility(node('a', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }]), tolerating).shouldRun, true);
  });
  it('an empty-key Exists toleration tolerates everything', () => {
    assert.ok(tolerates({ operator: 'Exists' }, { key: 'any', effect: 'NoSchedule' }));
    assert.ok(!tolerates({ key: 'k', value: 'a' }, { key: 'k', value: 'b', effect: 'NoSchedule' }));
  });
});

describe('pinning', () => {
  it('adds a metadata.name field requirement and reads it back', () => {
    const a = pinnedAffinity(undefined, 'n1');
    assert.deepEqual(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]);
    const p = pod();
    p.spec!.affinity = a;
    assert.equal(targetNode(p), 'n1');
  });
  it('keeps existing terms, adding the field requirement to each', () => {
    const a = pinnedAffinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'z', operator: 'Exists' }] }] } } }, 'n2');
    const t = a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0];
    assert.deepEqual(t?.matchExpressions, [{ key: 'z', operator: 'Exists' }]);
    assert.deepEqual(t?.matchFields, [{ key: 'metadata.name', operator: 'In', values: ['n2'] }]);
  });
});

describe('planDaemonSet', () => {
  const now = Date.parse('2024-01-02T00:00:00Z');
  const onNode = (name: string, n: string, hash: string, ready = true, created?: string) => pod({ name, node: n, hash, ready, created });

  it('creates on nodes without a pod, deletes misscheduled and duplicate pods', () => {
    const nodes = [node('a'), node('b'), node('c', {}, [{ key: 'evict', effect: 'NoExecute' }])];
    const pods = [onNode('a1', 'a', 'h1', true, '2024-01-01T00:00:00Z'), onNode('a2', 'a', 'h1', true, '2024-01-01T01:00:00Z'), onNode('c1', 'c', 'h1')];
    const plan = planDaemonSet(ds(), nodes, pods, 'h1', now);
    assert.deepEqual(plan.createOn, ['b']);
    assert.deepEqual(plan.delete.map((p) => p.metadata?.name).sort(), ['a2', 'c1']);
    assert.equal(plan.status.desiredNumberScheduled, 2);
    assert.equal(plan.status.currentNumberScheduled, 1);
    assert.equal(plan.status.numberMisscheduled, 1);
    assert.equal(plan.status.numberReady, 1);
    assert.equal(plan.status.updatedNumberScheduled, 1);
    assert.equal(plan.status.observedGeneration, 2);
  });
  it('rolling update deletes at most maxUnavailable available old pods', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const pods = [onNode('a1', 'a', 'old'), onNode('b1', 'b', 'old'), onNode('c1', 'c', 'old')];
    const plan = planDaemonSet(ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } }), nodes, pods, 'new', now);
    assert.deepEqual(plan.delete.map((p) => p.metadata?.name), ['a1']);
    assert.equal(plan.status.updatedNumberScheduled, 0);
  });
  it('an unavailable old pod is replaced first and uses up the budget', () => {
    const nodes = [node('a'), node('b')];
    const pods = [onNode('a1', 'a', 'old'), onNode('b1', 'b', 'old', false)];
    const plan = planDaemonSet(ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } }), nodes, pods, 'new', now);
    assert.deepEqual(plan.delete.map((p) => p.metadata?.name), ['b1']);
  });
  it('maxSurge starts the new pod beside the old one, and removes the old once the new is available', () => {
    const strategy = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } };
    const first = planDaemonSet(ds(strategy), [node('a'), node('b')], [onNode('a1', 'a', 'old'), onNode('b1', 'b', 'old')], 'new', now);
    assert.deepEqual(first.createOn, ['a']);
    assert.deepEqual(first.delete, []);
    const second = planDaemonSet(ds(strategy), [node('a'), node('b')], [onNode('a1', 'a', 'old'), onNode('a2', 'a', 'new'), onNode('b1', 'b', 'old')], 'new', now);
    assert.deepEqual(second.delete.map((p) => p.metadata?.name), ['a1']);
    assert.deepEqual(second.createOn, []);
  });
  it('OnDelete leaves old pods alone', () => {
    const plan = planDaemonSet(ds({ updateStrategy: { type: 'OnDelete' } }), [node('a')], [onNode('a1', 'a', 'old')], 'new', now);
    assert.deepEqual(plan.delete, []);
  });
});

describe('planDaemonSet and vanished nodes', () => {
  it('deletes unbound pods pinned to a node that no longer exists', () => {
    const p = pod({ name: 'ghost', hash: 'h' });
    p.spec!.affinity = pinnedAffinity(undefined, 'gone');
    const plan = planDaemonSet(ds(), [node('a')], [p], 'h', Date.now());
    assert.deepEqual(plan.delete.map((x) => x.metadata?.name), ['ghost']);
    assert.deepEqual(plan.createOn, ['a']);
  });
});
