import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { parseServiceRange } from '../../src/api/service-range.js';
import { antiAffinityMode, dnsDeployment, dnsService, observedAffinityMode, type AddonInput } from '../../src/dns/addon/manifests.js';
import { planAddon, type AddonObserved } from '../../src/dns/addon/plan.js';

const input = (nodes: number): AddonInput => ({
  serviceRange: parseServiceRange('127.24.0.0/16'), clusterDomain: 'cluster.local',
  trireme: ['/usr/bin/node', '/opt/trireme/bin/trireme'], image: 'trireme/dns:v0.1.0', schedulableNodes: nodes,
});
const desired = (nodes: number) => ({ service: dnsService(input(nodes)), deployment: dnsDeployment(input(nodes)) });
const stored = <T extends Service | Deployment>(o: T, extra: Partial<NonNullable<T['metadata']>> = {}): T =>
  ({ ...o, metadata: { ...o.metadata, uid: 'u1', resourceVersion: '7', ...extra } });
const settled = (nodes: number): AddonObserved => ({ service: stored(desired(nodes).service), deployment: stored(desired(nodes).deployment), secret: { state: 'valid' } });

describe('DNS add-on objects', () => {
  it('kube-system/kube-dns on the tenth address of the range, 53/UDP dns and 53/TCP dns-tcp by name', () => {
    const s = dnsService(input(1));
    assert.equal(s.metadata?.namespace, 'kube-system');
    assert.equal(s.metadata?.name, 'kube-dns');
    assert.equal(s.spec?.clusterIP, '127.24.0.10');
    assert.deepEqual(s.spec?.selector, { 'k8s-app': 'kube-dns' });
    assert.deepEqual(s.spec?.ports, [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
    ]);
  });

  it('kube-system/coredns: 2 replicas of this installation\'s `trireme dns` on the allocated ports, the kubeconfig Secret mounted', () => {
    const d = dnsDeployment(input(2));
    assert.equal(d.metadata?.name, 'coredns');
    assert.equal(d.spec?.replicas, 2);
    assert.deepEqual(d.spec?.selector, { matchLabels: { 'k8s-app': 'kube-dns' } });
    assert.equal(d.spec?.template.metadata?.labels?.['k8s-app'], 'kube-dns');
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxUnavailable: 1, maxSurge: 0 });
    const c = d.spec!.template.spec!.containers[0]!;
    assert.deepEqual(c.command, ['/usr/bin/node']);
    assert.deepEqual(c.args?.slice(0, 8), ['/opt/trireme/bin/trireme', 'dns', '--kubeconfig', '$(TRIREME_VOLUME_KUBECONFIG)/kubeconfig', '--listen', '$(POD_IP):$(PORT_DNS)', '--tcp-listen', '$(POD_IP):$(PORT_DNS_TCP)']);
    assert.ok(c.args?.join(' ').includes('--service-cluster-ip-range 127.24.0.0/16'));
    assert.deepEqual(c.ports?.map((p) => [p.name, p.protocol]), [['dns', 'UDP'], ['dns-tcp', 'TCP']]);
    assert.deepEqual(c.readinessProbe?.tcpSocket, { port: 'dns-tcp' });
    assert.deepEqual(d.spec?.template.spec?.volumes, [{ name: 'kubeconfig', secret: { secretName: 'trireme-dns-kubeconfig', defaultMode: 0o400 } }]);
  });

  it('anti-affinity on kubernetes.io/hostname: required from two schedulable nodes on, preferred below', () => {
    assert.equal(antiAffinityMode(0), 'preferred');
    assert.equal(antiAffinityMode(1), 'preferred');
    assert.equal(antiAffinityMode(2), 'required');
    const req = dnsDeployment(input(3)).spec!.template.spec!.affinity!.podAntiAffinity!;
    assert.deepEqual(req.requiredDuringSchedulingIgnoredDuringExecution, [{ labelSelector: { matchLabels: { 'k8s-app': 'kube-dns' } }, topologyKey: 'kubernetes.io/hostname' }]);
    assert.equal(req.preferredDuringSchedulingIgnoredDuringExecution, undefined);
    const pref = dnsDeployment(input(1)).spec!.template.spec!.affinity!.podAntiAffinity!;
    assert.equal(pref.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.equal(pref.requiredDuringSchedulingIgnoredDuringExecution, undefined);
  });

  it('is deterministic: every server computes the same objects', () => {
    assert.deepEqual(desired(2), desired(2));
  });
});

describe('DNS add-on plan', () => {
  it('nothing to do when everything is in place', () => {
    assert.deepEqual(planAddon(desired(2), settled(2)), []);
  });

  it('a fresh cluster: the Secret, the Service and the Deployment', () => {
    const a = planAddon(desired(1), { service: undefined, deployment: undefined, secret: { state: 'absent' } });
    assert.deepEqual(a.map((x) => [x.kind, 'what' in x ? x.what : '']), [['issue-secret', ''], ['create', 'service'], ['create', 'deployment']]);
  });

  it('deleted objects are created again; ones being deleted are waited for', () => {
    assert.deepEqual(planAddon(desired(2), { ...settled(2), deployment: undefined }).map((x) => x.kind), ['create']);
    const deleting = { ...settled(2), deployment: stored({ ...desired(2).deployment, spec: { ...desired(2).deployment.spec!, replicas: 0 } }, { deletionTimestamp: '2026-01-01T00:00:00Z' }) };
    assert.deepEqual(planAddon(desired(2), deleting), []);
  });

  it('scaled to 0: back to 2, compare-and-swap on the resourceVersion read; other replica counts are kept', () => {
    const zero = stored({ ...desired(2).deployment, spec: { ...desired(2).deployment.spec!, replicas: 0 } });
    const [a] = planAddon(desired(2), { ...settled(2), deployment: zero });
    assert.equal(a?.kind, 'update');
    assert.equal(a?.kind === 'update' && (a.object as Deployment).spec?.replicas, 2);
    assert.equal(a?.kind === 'update' && a.object.metadata?.resourceVersion, '7');
    const three = stored({ ...desired(2).deployment, spec: { ...desired(2).deployment.spec!, replicas: 3 } });
    assert.deepEqual(planAddon(desired(2), { ...settled(2), deployment: three }), []);
  });

  it('a second node joins: the pods\' anti-affinity becomes required (other affinity kept)', () => {
    const old = stored(desired(1).deployment);
    old.spec!.template.spec!.affinity = { ...old.spec!.template.spec!.affinity, nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
    const [a] = planAddon(desired(2), { ...settled(2), deployment: old });
    assert.equal(a?.kind, 'update');
    const d = (a as { object: Deployment }).object;
    assert.equal(observedAffinityMode(d), 'required');
    assert.ok(d.spec?.template.spec?.affinity?.nodeAffinity, 'the operator\'s node affinity stays');
    assert.deepEqual(planAddon(desired(2), { ...settled(2), deployment: d }), [], 'then settled');
  });

  it('the Service: ports put back by update; another ClusterIP means delete (uid precondition) and create again', () => {
    const svc = stored(desired(2).service);
    const changed = { ...svc, spec: { ...svc.spec, ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }] } };
    const [u] = planAddon(desired(2), { ...settled(2), service: changed });
    assert.equal(u?.kind, 'update');
    assert.deepEqual((u as { object: Service }).object.spec?.ports, desired(2).service.spec?.ports);
    assert.equal((u as { object: Service }).object.metadata?.resourceVersion, '7');
    const moved = { ...svc, spec: { ...svc.spec, clusterIP: '127.24.0.99' } };
    assert.deepEqual(planAddon(desired(2), { ...settled(2), service: moved }).map((x) => [x.kind, x.kind === 'delete' && x.uid]), [['delete', 'u1']]);
  });

  it('an unusable Secret is replaced at the resourceVersion read', () => {
    const a = planAddon(desired(2), { ...settled(2), secret: { state: 'unusable', why: 'expires within 30 days', resourceVersion: '9' } });
    assert.deepEqual(a, [{ kind: 'issue-secret', why: 'expires within 30 days', resourceVersion: '9' }]);
  });
});
