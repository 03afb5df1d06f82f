// The proxy's listener table: which listeners a node wants, with which backends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, EndpointSubset, Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import { backendsFor, listenerTable, type ListenerSpec } from '../../../src/agent/proxy/table.js';

function svc(name: string, spec: ServiceSpec, created = '2026-01-01T00:00:00Z'): Service {
  return { metadata: { name, namespace: 'ns', creationTimestamp: created }, spec };
}
function eps(name: string, subsets: EndpointSubset[]): Endpoints {
  return { metadata: { name, namespace: 'ns' }, subsets };
}
const table = (services: Service[], endpoints: Endpoints[], nodeName = 'n1', nodeIp = '127.0.23.1'): ListenerSpec[] =>
  listenerTable({ services, endpoints, nodeName, nodeIp });
const summary = (t: ListenerSpec[]): Record<string, string[]> => Object.fromEntries(t.map((l) => [l.key, l.backends.map((b) => b.key)]));

describe('listener table', () => {
  const webEps = eps('web', [{
    addresses: [{ ip: '127.0.23.2', nodeName: 'n2' }, { ip: '127.0.23.1', nodeName: 'n1' }],
    notReadyAddresses: [{ ip: '127.0.23.3', nodeName: 'n3' }],
    ports: [{ name: 'http', port: 41000 }, { name: 'dns', port: 41053, protocol: 'UDP' }],
  }]);

  it('a ClusterIP Service: one listener per port, backends matched by port name, Ready only, sorted', () => {
    const t = table([svc('web', { clusterIP: '127.23.0.5', ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP' }] })], [webEps]);
    assert.deepEqual(summary(t), {
      'TCP/127.23.0.5:80': ['127.0.23.1:41000', '127.0.23.2:41000'],
      'UDP/127.23.0.5:53': ['127.0.23.1:41053', '127.0.23.2:41053'],
    });
    assert.equal(t[0]?.scope, 'cluster');
    assert.equal(t[0]?.service, 'ns/web');
    assert.equal(t[0]?.affinity, undefined);
  });

  it('an unnamed Service port matches the unnamed endpoints port, and the protocol must match', () => {
    const e = eps('a', [{ addresses: [{ ip: '127.0.23.9' }], ports: [{ port: 9000 }, { port: 9001, protocol: 'UDP' }] }]);
    const t = table([svc('a', { clusterIP: '127.23.0.6', ports: [{ port: 90 }] })], [e]);
    assert.deepEqual(summary(t), { 'TCP/127.23.0.6:90': ['127.0.23.9:9000'] });
    assert.deepEqual(backendsFor(e, { port: 90, protocol: 'UDP' }).map((b) => b.key), ['127.0.23.9:9001']);
    assert.deepEqual(backendsFor(e, { port: 90, name: 'other' }), []);
  });

  it('a Service without Endpoints still gets its listener, with no backends', () => {
    assert.deepEqual(summary(table([svc('lonely', { clusterIP: '127.23.0.7', ports: [{ port: 80 }] })], [])), { 'TCP/127.23.0.7:80': [] });
  });

  it('headless and ExternalName Services get no listener; SCTP ports are skipped', () => {
    const t = table([
      svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] }),
      svc('sctp', { clusterIP: '127.23.0.8', ports: [{ port: 80, protocol: 'SCTP' }] }),
    ], []);
    assert.deepEqual(t, []);
  });

  it('NodePort and LoadBalancer: the ClusterIP listener plus nodeIP:nodePort', () => {
    const t = table([
      svc('web', { type: 'NodePort', clusterIP: '127.23.0.5', ports: [{ name: 'http', port: 80, nodePort: 32301 }] }),
      svc('lb', { type: 'LoadBalancer', clusterIP: '127.23.0.9', ports: [{ port: 81, nodePort: 32302 }] }),
    ], [webEps]);
    assert.deepEqual(Object.keys(summary(t)), ['TCP/127.0.23.1:32301', 'TCP/127.0.23.1:32302', 'TCP/127.23.0.5:80', 'TCP/127.23.0.9:81']);
    assert.equal(t.find((l) => l.key === 'TCP/127.0.23.1:32301')?.scope, 'node');
    assert.equal(t.find((l) => l.key === 'TCP/127.0.23.1:32301')?.backends.length, 2);
  });

  it('clusterIPs (dual-stack field): every IPv4 address gets a listener', () => {
    const t = table([svc('web', { clusterIP: '127.23.0.5', clusterIPs: ['127.23.0.5', 'fd00::5'], ports: [{ name: 'http', port: 80 }] })], [webEps]);
    assert.deepEqual(Object.keys(summary(t)), ['TCP/127.23.0.5:80']);
  });

  it('internalTrafficPolicy Local: the ClusterIP listener keeps only this node\'s endpoints; NodePort keeps all', () => {
    const t = table([svc('web', { type: 'NodePort', clusterIP: '127.23.0.5', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 32301 }] })], [webEps]);
    assert.deepEqual(summary(t), { 'TCP/127.0.23.1:32301': ['127.0.23.1:41000', '127.0.23.2:41000'], 'TCP/127.23.0.5:80': ['127.0.23.1:41000'] });
    const onN3 = table([svc('web', { clusterIP: '127.23.0.5', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80 }] })], [webEps], 'n3');
    assert.deepEqual(summary(onN3), { 'TCP/127.23.0.5:80': [] }, 'a not-ready endpoint on this node does not count');
  });

  it('externalTrafficPolicy Local: the NodePort listener keeps only this node\'s endpoints; ClusterIP keeps all', () => {
    const t = table([svc('web', { type: 'NodePort', clusterIP: '127.23.0.5', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 32301 }] })], [webEps], 'n2', '127.0.23.2');
    assert.deepEqual(summary(t), { 'TCP/127.0.23.2:32301': ['127.0.23.2:41000'], 'TCP/127.23.0.5:80': ['127.0.23.1:41000', '127.0.23.2:41000'] });
  });

  it('sessionAffinity ClientIP: timeoutSeconds, defaulting to 3 h', () => {
    const t = table([
      svc('a', { clusterIP: '127.23.0.5', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] }),
      svc('b', { clusterIP: '127.23.0.6', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }),
      svc('c', { clusterIP: '127.23.0.7', sessionAffinity: 'None', ports: [{ port: 80 }] }),
    ], []);
    assert.deepEqual(t.map((l) => l.affinity?.timeoutMs), [60_000, 10_800_000, undefined]);
  });

  it('endpoints across subsets are merged and de-duplicated; a subset without the port contributes nothing', () => {
    const e = eps('web', [
      { addresses: [{ ip: '127.0.23.1' }], ports: [{ name: 'http', port: 41000 }] },
      { addresses: [{ ip: '127.0.23.1' }, { ip: '127.0.23.4' }], ports: [{ name: 'http', port: 41000 }] },
      { addresses: [{ ip: '127.0.23.5' }], ports: [{ name: 'metrics', port: 9100 }] },
    ]);
    assert.deepEqual(backendsFor(e, { name: 'http', port: 80 }).map((b) => b.key), ['127.0.23.1:41000', '127.0.23.4:41000']);
  });

  it('Endpoints of another namespace are not used', () => {
    const other: Endpoints = { metadata: { name: 'web', namespace: 'other' }, subsets: webEps.subsets ?? [] };
    assert.deepEqual(summary(table([svc('web', { clusterIP: '127.23.0.5', ports: [{ name: 'http', port: 80 }] })], [other])), { 'TCP/127.23.0.5:80': [] });
  });

  it('two Services on one address:port (a guard only): the older keeps it, in any input order', () => {
    const older = svc('old', { clusterIP: '127.23.0.5', ports: [{ port: 80 }] }, '2026-01-01T00:00:00Z');
    const newer = svc('new', { clusterIP: '127.23.0.5', ports: [{ port: 80 }] }, '2026-01-02T00:00:00Z');
    assert.equal(table([newer, older], [])[0]?.service, 'ns/old');
    assert.equal(table([older, newer], [])[0]?.service, 'ns/old');
  });
});
