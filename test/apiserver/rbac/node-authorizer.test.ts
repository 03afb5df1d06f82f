// Table tests of the pure node authorizer (its graph of pods, and its decisions) and of
// NodeRestriction admission: what node n1's credentials may read and write, against pods bound
// to n1, to n2 and to no node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/object.js';
import type { Attributes } from '../../../src/apiserver/rbac/rules.js';
import { authorizeNode, nodeNameOf, nodeRules } from '../../../src/apiserver/rbac/node-authorizer.js';
import { buildNodeGraph, NodeGraph, podReferences } from '../../../src/apiserver/rbac/node-graph.js';
import { nodeRestriction } from '../../../src/apiserver/rbac/node-restriction.js';

const o = (x: unknown) => x as KubeObject;
const pod = (name: string, node: string | undefined, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) => o({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'shop', ...(annotations ? { annotations } : {}) },
  spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c', image: 'x' }], ...spec },
});

const onN1 = pod('web-1', 'n1', {
  volumes: [{ name: 'v', secret: { secretName: 'vol-secret' } }, { name: 'p', projected: { sources: [{ secret: { name: 'proj-secret' } }, { configMap: { name: 'proj-cm' } }] } }, { name: 'c', configMap: { name: 'vol-cm' } }],
  containers: [{ name: 'c', image: 'x', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }, { name: 'B', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'k' } } }], envFrom: [{ secretRef: { name: 'from-secret' } }] }],
  initContainers: [{ name: 'i', image: 'x', envFrom: [{ configMapRef: { name: 'init-cm' } }] }],
  imagePullSecrets: [{ name: 'pull-secret' }],
  serviceAccountName: 'web-sa',
});
const onN2 = pod('web-2', 'n2', { volumes: [{ name: 'v', secret: { secretName: 'n2-secret' } }] });
const pending = pod('web-3', undefined, { volumes: [{ name: 'v', secret: { secretName: 'pending-secret' } }] });
const graph = buildNodeGraph([onN1, onN2, pending]);

const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const r = (verb: string, resource: string, more: Partial<Attributes> = {}): Attributes => ({ verb, group: '', resource, ...more });
const ns = { namespace: 'shop' };
const allowed = (user: typeof n1, a: Attributes) => authorizeNode(graph, user, a)?.allowed === true;

test('podReferences finds every Secret, ConfigMap and ServiceAccount a pod names', () => {
  const refs = podReferences(onN1);
  assert.deepEqual([...refs.secrets].sort(), ['env-secret', 'from-secret', 'proj-secret', 'pull-secret', 'vol-secret']);
  assert.deepEqual([...refs.configmaps].sort(), ['env-cm', 'init-cm', 'proj-cm', 'vol-cm']);
  assert.deepEqual([...refs.serviceaccounts], ['web-sa']);
});

test('a node reads exactly the Secrets, ConfigMaps and ServiceAccounts its pods reference', () => {
  const table: [Attributes, boolean][] = [
    ...['vol-secret', 'proj-secret', 'env-secret', 'from-secret', 'pull-secret'].map((n): [Attributes, boolean] => [r('get', 'secrets', { ...ns, name: n }), true]),
    ...['vol-cm', 'proj-cm', 'env-cm', 'init-cm'].map((n): [Attributes, boolean] => [r('get', 'configmaps', { ...ns, name: n }), true]),
    [r('get', 'serviceaccounts', { ...ns, name: 'web-sa' }), true],
    [r('get', 'secrets', { ...ns, name: 'n2-secret' }), false], // another node's pod
    [r('get', 'secrets', { ...ns, name: 'pending-secret' }), false], // an unbound pod's
    [r('get', 'secrets', { ...ns, name: 'nobody' }), false], // no pod's
    [r('get', 'secrets', { namespace: 'other', name: 'vol-secret' }), false], // same name, other namespace
    [r('list', 'secrets', ns), false],
    [r('watch', 'configmaps'), false],
    [r('update', 'secrets', { ...ns, name: 'vol-secret' }), false],
    [r('get', 'configmaps', { ...ns, name: 'vol-secret' }), false], // a Secret's name is not a ConfigMap grant
  ];
  for (const [a, want] of table) assert.equal(allowed(n1, a), want, JSON.stringify(a));
});

test('a node reads what the agent watches, and writes only its own objects', () => {
  const lease = (verb: string, more: Partial<Attributes> = {}) => r(verb, 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease', ...more });
  const table: [Attributes, boolean][] = [
    [r('list', 'pods'), true], [r('watch', 'pods'), true], [r('get', 'pods', { ...ns, name: 'web-2' }), true],
    [r('list', 'services'), true], [r('watch', 'endpoints'), true], [r('list', 'endpointslices', { group: 'discovery.k8s.io' }), true],
    [r('get', 'nodes', { name: 'n2' }), true], [r('list', 'nodes'), true],
    [r('create', 'nodes'), true],
    [r('patch', 'nodes', { name: 'n1' }), true], [r('patch', 'nodes', { name: 'n1', subresource: 'status' }), true],
    [r('patch', 'nodes', { name: 'n2' }), false], [r('update', 'nodes', { name: 'n2', subresource: 'status' }), false], [r('delete', 'nodes', { name: 'n2' }), false],
    [lease('create'), true], [lease('patch', { name: 'n1' }), true], [lease('get', { name: 'n1' }), true],
    [lease('patch', { name: 'n2' }), false], [lease('patch', { name: 'n1', namespace: 'kube-system' }), false], [lease('list'), false],
    [r('patch', 'pods', { ...ns, name: 'web-1', subresource: 'status' }), true],
    [r('patch', 'pods', { ...ns, name: 'web-2', subresource: 'status' }), false],
    [r('patch', 'pods', { ...ns, name: 'web-3', subresource: 'status' }), false],
    [r('patch', 'pods', { ...ns, name: 'web-1' }), true], [r('delete', 'pods', { ...ns, name: 'web-1' }), true],
    [r('delete', 'pods', { ...ns, name: 'web-2' }), false], [r('update', 'pods', { ...ns, name: 'web-2' }), false],
    [r('create', 'pods', ns), true], // admission: mirror pods bound to itself only
    [r('create', 'pods', { ...ns, name: 'web-1', subresource: 'eviction' }), false],
    [r('create', 'pods', { ...ns, name: 'web-1', subresource: 'exec' }), false],
    [r('create', 'pods', { ...ns, name: 'web-1', subresource: 'binding' }), false],
    [r('create', 'events', ns), true], [r('patch', 'events', { group: 'events.k8s.io', ...ns, name: 'e' }), true], [r('delete', 'events', { ...ns, name: 'e' }), false],
    [r('create', 'deployments', { group: 'apps', ...ns }), false], [r('list', 'deployments', { group: 'apps' }), false],
    [r('create', 'services', ns), false], [r('update', 'endpoints', { ...ns, name: 'x' }), false],
    [r('list', 'clusterroles', { group: 'rbac.authorization.k8s.io' }), false],
  ];
  for (const [a, want] of table) assert.equal(allowed(n1, a), want, JSON.stringify(a));
});

test('no opinion for anyone but a named node in system:nodes, and for non-resource paths', () => {
  const a = r('get', 'secrets', { ...ns, name: 'vol-secret' });
  assert.equal(authorizeNode(graph, { name: 'alice', groups: ['system:nodes'] }, a), undefined);
  assert.equal(authorizeNode(graph, { name: 'system:node:n1', groups: ['system:authenticated'] }, a), undefined);
  assert.equal(authorizeNode(graph, { name: 'system:node:', groups: ['system:nodes'] }, a), undefined);
  assert.equal(authorizeNode(graph, n1, { verb: 'get', group: '', resource: '', path: '/api' }), undefined);
  assert.equal(nodeNameOf(n1), 'n1');
  assert.match(authorizeNode(graph, n1, a)!.reason, /references secrets shop\/vol-secret/);
});

test('the graph follows pods: an update moves the edges, a delete removes them, shared references are counted', () => {
  const g = new NodeGraph();
  const a = pod('a', 'n1', { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
  const b = pod('b', 'n1', { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
  g.upsert(a); g.upsert(b);
  assert.ok(g.references('n1', 'secrets', 'shop', 's'));
  g.remove('shop', 'a');
  assert.ok(g.references('n1', 'secrets', 'shop', 's'), 'b still references it');
  g.upsert(pod('b', 'n2', { volumes: [{ name: 'v', secret: { secretName: 's' } }] }));
  assert.ok(!g.references('n1', 'secrets', 'shop', 's'));
  assert.ok(g.references('n2', 'secrets', 'shop', 's'));
  assert.equal(g.nodeOfPod('shop', 'b'), 'n2');
  g.remove('shop', 'b');
  assert.ok(!g.references('n2', 'secrets', 'shop', 's'));
  assert.equal(g.nodeOfPod('shop', 'b'), undefined);
});

test('the rules a node lists (SelfSubjectRulesReview) name its own Node and Lease', () => {
  const rules = nodeRules(n1, 'kube-node-lease');
  assert.ok(rules.some((x) => x.resources.includes('nodes/status') && x.resourceNames.includes('n1')));
  assert.ok(rules.some((x) => x.resources.includes('leases') && x.resourceNames.includes('n1')));
  assert.ok(!nodeRules(n1, 'default').some((x) => x.resources.includes('leases')));
  assert.deepEqual(nodeRules({ name: 'bob', groups: [] }, undefined), []);
});

// ---------------------------------------------------------------------------------------
// NodeRestriction

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []) => o({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } });
const refused = (f: () => void, re: RegExp) => assert.throws(f, (e: Error & { code?: string }) => e.code === 'Forbidden' && re.test(e.message));
const podsW = { verb: 'create', group: '', resource: 'pods' };
const nodesW = (verb: string, subresource?: string) => ({ verb, group: '', resource: 'nodes', ...(subresource ? { subresource } : {}) });
const mirror = { 'kubernetes.io/config.mirror': 'h' };

test('NodeRestriction: a node creates only mirror pods bound to itself that reference no Secret or ConfigMap', () => {
  nodeRestriction(n1, podsW, pod('static-n1', 'n1', {}, mirror), undefined);
  refused(() => nodeRestriction(n1, podsW, pod('plain', 'n1'), undefined), /can only create mirror pods/);
  refused(() => nodeRestriction(n1, podsW, pod('static-n2', 'n2', {}, mirror), undefined), /bound to itself/);
  refused(() => nodeRestriction(n1, podsW, pod('static-x', undefined, {}, mirror), undefined), /bound to itself/);
  refused(() => nodeRestriction(n1, podsW, pod('steal', 'n1', { volumes: [{ name: 'v', secret: { secretName: 'n2-secret' } }] }, mirror), undefined), /references secrets/);
  refused(() => nodeRestriction(n1, podsW, pod('steal', 'n1', { containers: [{ name: 'c', image: 'x', envFrom: [{ configMapRef: { name: 'cm' } }] }] }, mirror), undefined), /references secrets or configmaps/);
  // Anyone but a node is not checked.
  nodeRestriction({ name: 'admin', groups: ['system:masters'] }, podsW, pod('plain', 'n2'), undefined);
});

test('NodeRestriction: a node updates only its own pods, and only their ports annotation', () => {
  const cur = o({ ...onN1, metadata: { ...onN1.metadata, resourceVersion: '5' } });
  const withPorts = o({ ...cur, metadata: { ...cur.metadata, annotations: { 'trireme.io/ports': '{"c/80":30000}' } } });
  nodeRestriction(n1, { verb: 'patch', group: '', resource: 'pods' }, withPorts, cur);
  const relabelled = o({ ...cur, metadata: { ...cur.metadata, labels: { app: 'evil' } } });
  refused(() => nodeRestriction(n1, { verb: 'patch', group: '', resource: 'pods' }, relabelled, cur), /can only change the trireme.io\/ports annotation/);
  const respec = o({ ...cur, spec: { ...(cur.spec as object), containers: [{ name: 'c', image: 'evil' }] } });
  refused(() => nodeRestriction(n1, { verb: 'update', group: '', resource: 'pods' }, respec, cur), /can only change/);
  // Status of its own pods: yes; of another node's: no.
  nodeRestriction(n1, { verb: 'patch', group: '', resource: 'pods', subresource: 'status' }, o({ ...cur, status: { phase: 'Running' } }), cur);
  refused(() => nodeRestriction(n1, { verb: 'patch', group: '', resource: 'pods', subresource: 'status' }, onN2, onN2), /bound to itself/);
});

test('NodeRestriction: a node writes only its own Node, never node-restriction labels, never taints by update', () => {
  nodeRestriction(n1, nodesW('create'), node('n1', { 'kubernetes.io/hostname': 'n1' }, [{ key: 'k', effect: 'NoSchedule' }]), undefined);
  refused(() => nodeRestriction(n1, nodesW('create'), node('n2'), undefined), /cannot modify node "n2"/);
  refused(() => nodeRestriction(n1, nodesW('create'), node('n1', { 'node-restriction.kubernetes.io/tier': 'gold' }), undefined), /not allowed to modify labels: node-restriction.kubernetes.io\/tier/);
  const cur = node('n1', { 'node-restriction.kubernetes.io/tier': 'gold', a: '1' });
  nodeRestriction(n1, nodesW('patch'), node('n1', { 'node-restriction.kubernetes.io/tier': 'gold', a: '2' }), cur);
  refused(() => nodeRestriction(n1, nodesW('patch'), node('n1', { 'node-restriction.kubernetes.io/tier': 'silver', a: '1' }), cur), /modify labels/);
  refused(() => nodeRestriction(n1, nodesW('patch'), node('n1', { a: '1' }), cur), /modify labels/);
  refused(() => nodeRestriction(n1, nodesW('update'), node('n1', cur.metadata!.labels, [{ key: 'k', effect: 'NoSchedule' }]), cur), /not allowed to modify taints/);
  nodeRestriction(n1, nodesW('patch', 'status'), node('n1', cur.metadata!.labels), cur);
  refused(() => nodeRestriction(n1, nodesW('patch', 'status'), node('n2'), node('n2')), /cannot modify node "n2"/);
});

test('NodeRestriction: a node creates only its own Lease', () => {
  const lease = (name: string, namespace = 'kube-node-lease') => o({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace } });
  const w = { verb: 'create', group: 'coordination.k8s.io', resource: 'leases' };
  nodeRestriction(n1, w, lease('n1'), undefined);
  refused(() => nodeRestriction(n1, w, lease('n2'), undefined), /cannot modify lease "n2"/);
});
