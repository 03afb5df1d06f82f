// Table tests of the pure RBAC authorizer, aggregation and escalation checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorize } from '../../../src/apiserver/rbac/authorizer.js';
import { buildRbacState } from '../../../src/apiserver/rbac/state.js';
import { coveringGaps } from '../../../src/apiserver/rbac/escalation.js';
import { toBinding, toRole, toPolicyRule } from '../../../src/api/rbac/types.js';
import { defaultClusterRoleBindings, defaultClusterRoles } from '../../../src/apiserver/rbac/defaults.js';
import type { KubeObject } from '../../../src/api/object.js';

const RBAC = 'rbac.authorization.k8s.io';
const o = (x: unknown) => x as KubeObject;
const state = buildRbacState({
  roles: [o({ metadata: { name: 'pod-reader', namespace: 'shop' }, rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }] }),
    o({ metadata: { name: 'logs', namespace: 'shop' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods/log'], resourceNames: ['web'] }] })].map(toRole),
  clusterRoles: [...defaultClusterRoles(), o({ metadata: { name: 'urls' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/logs/*'] }] })].map(toRole),
  roleBindings: [
    o({ metadata: { name: 'alice-reads', namespace: 'shop' }, roleRef: { kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice', apiGroup: RBAC }] }),
    o({ metadata: { name: 'logs', namespace: 'shop' }, roleRef: { kind: 'Role', name: 'logs' }, subjects: [{ kind: 'ServiceAccount', name: 'builder' }] }),
    o({ metadata: { name: 'devs-edit', namespace: 'shop' }, roleRef: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'dev', apiGroup: RBAC }] }),
  ].map(toBinding),
  clusterRoleBindings: [...defaultClusterRoleBindings(), o({ metadata: { name: 'ops-urls' }, roleRef: { kind: 'ClusterRole', name: 'urls' }, subjects: [{ kind: 'User', name: 'ops', apiGroup: RBAC }] })].map(toBinding),
});

const alice = { name: 'alice', groups: ['system:authenticated'] };
const dev = { name: 'bob', groups: ['dev', 'system:authenticated'] };
const sa = { name: 'system:serviceaccount:shop:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] };
const admin = { name: 'root', groups: ['system:masters'] };
const ops = { name: 'ops', groups: [] };

const cases: [string, { name: string; groups: string[] }, Record<string, string>, boolean][] = [
  ['role grants list in its namespace', alice, { verb: 'list', group: '', resource: 'pods', namespace: 'shop' }, true],
  ['not in another namespace', alice, { verb: 'list', group: '', resource: 'pods', namespace: 'other' }, false],
  ['not cluster-wide', alice, { verb: 'list', group: '', resource: 'pods' }, false],
  ['not another verb', alice, { verb: 'delete', group: '', resource: 'pods', namespace: 'shop', name: 'x' }, false],
  ['pods does not cover pods/log', alice, { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'shop', name: 'x' }, false],
  ['service account subject, resourceNames match', sa, { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'shop', name: 'web' }, true],
  ['resourceNames mismatch', sa, { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'shop', name: 'db' }, false],
  ['aggregated edit via group: delete deployments', dev, { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'd' }, true],
  ['aggregated edit includes view: get pods/log', dev, { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'shop', name: 'p' }, true],
  ['edit cannot write roles', dev, { verb: 'create', group: RBAC, resource: 'roles', namespace: 'shop' }, false],
  ['cluster-admin via system:masters', admin, { verb: 'delete', group: 'x', resource: 'y' }, true],
  ['non-resource prefix', ops, { verb: 'get', group: '', resource: '', path: '/logs/a' }, true],
  ['non-resource other path', ops, { verb: 'get', group: '', resource: '', path: '/metrics' }, false],
  ['basic-user SSAR', alice, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }, true],
];

for (const [name, user, attrs, allowed] of cases) {
  test(`rbac: ${name}`, () => {
    assert.equal(authorize(state, user, { verb: attrs.verb!, group: attrs.group!, resource: attrs.resource!, ...attrs }).allowed, allowed);
  });
}

test('rbac: the allow reason is Kubernetes\' text', () => {
  assert.equal(authorize(state, alice, { verb: 'get', group: '', resource: 'pods', namespace: 'shop', name: 'p' }).reason, 'RBAC: allowed by RoleBinding "alice-reads/shop" of Role "pod-reader" to User "alice"');
  assert.equal(authorize(state, admin, { verb: 'get', group: '', resource: 'pods' }).reason, 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"');
});

test('escalation: gaps are the rules not held', () => {
  const held = [toPolicyRule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] })];
  assert.equal(coveringGaps(held, [toPolicyRule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] })]).length, 0);
  assert.equal(coveringGaps(held, [toPolicyRule({ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] })]).length, 1);
  assert.equal(coveringGaps([toPolicyRule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] })], [toPolicyRule({ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/scale'] })]).length, 0);
});
