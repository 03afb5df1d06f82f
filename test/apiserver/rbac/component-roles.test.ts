// Table tests of the in-process components' default roles (rbac/defaults.ts) through the pure
// RBAC authorizer: each component's user (in no group but system:authenticated) may do what the
// component does, and is refused what lies outside its role.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorize } from '../../../src/apiserver/rbac/authorizer.js';
import { buildRbacState } from '../../../src/apiserver/rbac/state.js';
import { COMPONENT_USERS, defaultClusterRoleBindings, defaultClusterRoles } from '../../../src/apiserver/rbac/defaults.js';
import { toBinding, toRole } from '../../../src/api/rbac/types.js';
import type { Attributes } from '../../../src/apiserver/rbac/rules.js';

const state = buildRbacState({ roles: [], roleBindings: [], clusterRoles: defaultClusterRoles().map(toRole), clusterRoleBindings: defaultClusterRoleBindings().map(toBinding) });
const user = (name: string) => ({ name, groups: ['system:authenticated'] });
const r = (verb: string, group: string, resource: string, more: Partial<Attributes> = {}): Attributes => ({ verb, group, resource, ...more });
const ks = { namespace: 'kube-system' };

const table: [string, Attributes, boolean][] = [
  // Controller manager: its controllers' reads and writes, the GC's deletes, the aggregation controller's ClusterRole writes.
  [COMPONENT_USERS.controllerManager, r('watch', '', 'pods'), true],
  [COMPONENT_USERS.controllerManager, r('create', '', 'pods', { namespace: 'default' }), true],
  [COMPONENT_USERS.controllerManager, r('create', 'apps', 'replicasets', { namespace: 'default' }), true],
  [COMPONENT_USERS.controllerManager, r('patch', 'apps', 'deployments', { subresource: 'status', namespace: 'default', name: 'd' }), true],
  [COMPONENT_USERS.controllerManager, r('update', '', 'nodes', { subresource: 'status', name: 'n1' }), true],
  [COMPONENT_USERS.controllerManager, r('delete', '', 'secrets', { namespace: 'default', name: 'owned' }), true],
  [COMPONENT_USERS.controllerManager, r('create', 'discovery.k8s.io', 'endpointslices', { namespace: 'default' }), true],
  [COMPONENT_USERS.controllerManager, r('update', 'rbac.authorization.k8s.io', 'clusterroles', { name: 'admin' }), true],
  [COMPONENT_USERS.controllerManager, r('escalate', 'rbac.authorization.k8s.io', 'clusterroles', { name: 'admin' }), true],
  [COMPONENT_USERS.controllerManager, r('update', 'coordination.k8s.io', 'leases', { ...ks, name: 'kube-controller-manager' }), true],
  [COMPONENT_USERS.controllerManager, r('create', '', 'events', { namespace: 'default' }), true],
  [COMPONENT_USERS.controllerManager, r('create', '', 'secrets', { namespace: 'default' }), false],
  [COMPONENT_USERS.controllerManager, r('create', 'rbac.authorization.k8s.io', 'clusterrolebindings'), false],
  [COMPONENT_USERS.controllerManager, r('create', '', 'pods', { subresource: 'exec', namespace: 'default', name: 'p' }), false],
  [COMPONENT_USERS.controllerManager, r('create', '', 'services', { namespace: 'default' }), false],
  [COMPONENT_USERS.controllerManager, r('create', '', 'nodes'), false],
  // Scheduler: reads, binds, writes pod status; never Secrets.
  [COMPONENT_USERS.scheduler, r('list', '', 'nodes'), true],
  [COMPONENT_USERS.scheduler, r('watch', '', 'pods'), true],
  [COMPONENT_USERS.scheduler, r('create', '', 'pods', { subresource: 'binding', namespace: 'default', name: 'p' }), true],
  [COMPONENT_USERS.scheduler, r('patch', '', 'pods', { subresource: 'status', namespace: 'default', name: 'p' }), true],
  [COMPONENT_USERS.scheduler, r('update', 'coordination.k8s.io', 'leases', { ...ks, name: 'kube-scheduler' }), true],
  [COMPONENT_USERS.scheduler, r('get', '', 'secrets', { namespace: 'default', name: 's' }), false],
  [COMPONENT_USERS.scheduler, r('list', '', 'secrets'), false],
  [COMPONENT_USERS.scheduler, r('delete', '', 'pods', { namespace: 'default', name: 'p' }), false],
  [COMPONENT_USERS.scheduler, r('update', '', 'nodes', { name: 'n1' }), false],
  // DNS add-on: its three kube-system objects; nothing of the workloads.
  [COMPONENT_USERS.dnsAddon, r('create', 'apps', 'deployments', ks), true],
  [COMPONENT_USERS.dnsAddon, r('update', '', 'secrets', { ...ks, name: 'trireme-dns-kubeconfig' }), true],
  [COMPONENT_USERS.dnsAddon, r('list', '', 'nodes'), true],
  [COMPONENT_USERS.dnsAddon, r('get', '', 'endpoints', { namespace: 'default', name: 'kubernetes' }), true],
  [COMPONENT_USERS.dnsAddon, r('list', '', 'secrets'), false],
  [COMPONENT_USERS.dnsAddon, r('delete', '', 'pods', { namespace: 'default', name: 'p' }), false],
  [COMPONENT_USERS.dnsAddon, r('get', '', 'endpoints', { namespace: 'default', name: 'web' }), false],
  // Balancer: the API servers' Endpoints, nothing else.
  [COMPONENT_USERS.balancer, r('get', '', 'endpoints', { namespace: 'default', name: 'kubernetes' }), true],
  [COMPONENT_USERS.balancer, r('list', '', 'endpoints'), false],
  [COMPONENT_USERS.balancer, r('get', '', 'secrets', { namespace: 'default', name: 's' }), false],
  // Alert evaluator: /metrics.
  [COMPONENT_USERS.alerts, { verb: 'get', group: '', resource: '', path: '/metrics' }, true],
  [COMPONENT_USERS.alerts, r('list', '', 'pods'), false],
];

test('each component holds what it does and is refused what lies outside its role', () => {
  for (const [name, a, want] of table) assert.equal(authorize(state, user(name), a).allowed, want, `${name} ${JSON.stringify(a)}`);
});

test('a component role is bound to its own user only', () => {
  for (const name of Object.values(COMPONENT_USERS)) {
    const b = defaultClusterRoleBindings().find((x) => x.metadata?.name === name) as unknown as { subjects: { kind: string; name: string }[] };
    assert.deepEqual(b.subjects.map((s) => `${s.kind}:${s.name}`), [`User:${name}`]);
  }
  assert.ok(!authorize(state, user('someone-else'), r('list', '', 'nodes')).allowed);
});
