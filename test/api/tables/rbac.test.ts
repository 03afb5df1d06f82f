import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const meta = { name: 'alice-reads', namespace: 'shop', creationTimestamp: '2024-05-01T11:59:00Z' };

test('RoleBinding: Kind/name of the role, age, and users, groups, service accounts as kubectl -o wide shows them', () => {
  const rb = {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'dev' },
      { kind: 'ServiceAccount', name: 'default', namespace: 'shop' },
    ],
  } as KubeObject;
  const t = buildTable('RoleBinding', 'rbac.authorization.k8s.io/v1', [rb], { now: NOW, includeObject: 'None' });
  assert.deepEqual(t.columnDefinitions.map((c) => [c.name, c.priority]), [['Name', 0], ['Role', 0], ['Age', 0], ['Users', 1], ['Groups', 1], ['ServiceAccounts', 1]]);
  assert.deepEqual(t.rows[0]?.cells, ['alice-reads', 'Role/pod-reader', '60s', 'alice, bob', 'dev', 'shop/default']);
  const crb = { ...rb, kind: 'ClusterRoleBinding', roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [] } as KubeObject;
  assert.deepEqual(buildTable('ClusterRoleBinding', 'rbac.authorization.k8s.io/v1', [crb], { now: NOW, includeObject: 'None' }).rows[0]?.cells, ['alice-reads', 'ClusterRole/view', '60s', '', '', '']);
});

test('Role and ClusterRole: Name and Created At', () => {
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta, rules: [] } as KubeObject;
  const t = buildTable('ClusterRole', 'rbac.authorization.k8s.io/v1', [role], { now: NOW, includeObject: 'None' });
  assert.deepEqual(t.columnDefinitions.map((c) => c.name), ['Name', 'Created At']);
  assert.deepEqual(t.rows[0]?.cells, ['alice-reads', '2024-05-01T11:59:00Z']);
});
