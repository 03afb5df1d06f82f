// The start-time reconciliation of default RBAC objects: `reconciled` decides, per object, what
// to write so a default holds what the release says (pure, table-tested here).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/object.js';
import { AUTOUPDATE_ANNOTATION } from '../../../src/apiserver/rbac/defaults.js';
import { reconciled } from '../../../src/apiserver/rbac/reconcile.js';

type Obj = KubeObject & Record<string, unknown>;
const RBAC = 'rbac.authorization.k8s.io/v1';
const pods = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
const all = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };

const role = (meta: KubeObject['metadata'], extra: Record<string, unknown>): Obj => ({ apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: 'r', ...meta }, ...extra });
const binding = (subjects: unknown[], annotations?: Record<string, string>): Obj => ({
  apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name: 'b', ...(annotations ? { annotations } : {}) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' }, subjects,
});
const wantedRole = role({ labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } }, { rules: [pods] });

describe('reconciled (default RBAC objects)', () => {
  it('nothing to write when the object already holds the defaults', () => {
    assert.equal(reconciled(structuredClone(wantedRole), wantedRole), undefined);
  });

  it('restores changed rules and missing labels, keeping labels and annotations of its own', () => {
    const current = role({ labels: { team: 'a' }, annotations: { note: 'x' }, resourceVersion: '7' }, { rules: [all] });
    const next = reconciled(current, wantedRole) as Obj;
    assert.deepEqual(next.rules, [pods]);
    assert.deepEqual(next.metadata?.labels, { team: 'a', 'kubernetes.io/bootstrapping': 'rbac-defaults' });
    assert.equal(next.metadata?.annotations?.note, 'x');
    assert.equal(next.metadata?.resourceVersion, '7', 'written over the version read');
    assert.deepEqual(current.rules, [all], 'the input is not changed');
  });

  it('leaves an object annotated autoupdate "false" alone', () => {
    const current = role({ annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } }, { rules: [all] });
    assert.equal(reconciled(current, wantedRole), undefined);
  });

  it('an aggregated default gets its aggregationRule back, but its rules stay (the aggregation controller owns them)', () => {
    const agg = { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }] };
    const wanted = role({ annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } }, { rules: [], aggregationRule: agg });
    const current = role({ annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } }, { rules: [pods] });
    const next = reconciled(current, wanted) as Obj;
    assert.deepEqual(next.aggregationRule, agg);
    assert.deepEqual(next.rules, [pods]);
    assert.equal(reconciled(next, wanted), undefined, 'then nothing more to write');
  });

  it('a binding gets missing default subjects added and keeps extra ones', () => {
    const admins = { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:masters' };
    const alice = { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' };
    const next = reconciled(binding([alice]), binding([admins])) as Obj;
    assert.deepEqual(next.subjects, [alice, admins]);
    assert.equal(reconciled(binding([admins, alice]), binding([admins])), undefined);
    assert.equal(reconciled(binding([alice], { [AUTOUPDATE_ANNOTATION]: 'false' }), binding([admins])), undefined);
  });
});
