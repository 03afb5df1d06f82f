import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import { endpointSlicePrinter, endpointsPrinter, formatEndpoints, formatSliceEndpoints, formatSlicePorts, serviceExternalIP, servicePorts, servicePrinter } from '../../../src/api/tables/network.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const svc = (spec: Service['spec'], status?: Service['status']): Service => ({ metadata: { name: 's' }, spec, ...(status ? { status } : {}) });

test('PORT(S): port/protocol, node ports, default TCP, <none>', () => {
  assert.equal(servicePorts(svc({ ports: [{ port: 80, protocol: 'TCP' }] })), '80/TCP');
  assert.equal(servicePorts(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP', nodePort: 31053 }] })), '80:30080/TCP,53:31053/UDP');
  assert.equal(servicePorts(svc({ ports: [{ port: 8443 }] })), '8443/TCP');
  assert.equal(servicePorts(svc({ clusterIP: 'None' })), '<none>');
});

test('EXTERNAL-IP depends on the service type', () => {
  assert.equal(serviceExternalIP(svc({ type: 'ClusterIP' })), '<none>');
  assert.equal(serviceExternalIP(svc({})), '<none>');
  assert.equal(serviceExternalIP(svc({ type: 'NodePort', externalIPs: ['1.2.3.4', '5.6.7.8'] })), '1.2.3.4,5.6.7.8');
  assert.equal(serviceExternalIP(svc({ type: 'LoadBalancer' })), '<pending>');
  assert.equal(serviceExternalIP(svc({ type: 'LoadBalancer', externalIPs: ['9.9.9.9'] }, { loadBalancer: { ingress: [{ ip: '3.3.3.3' }, { hostname: 'lb.example.com' }, { ip: '3.3.3.3' }] } })),
    '3.3.3.3,lb.example.com,9.9.9.9');
  assert.equal(serviceExternalIP(svc({ type: 'ExternalName', externalName: 'db.example.com' })), 'db.example.com');
});

test('Service row: columns and cells', () => {
  assert.deepEqual(servicePrinter.columns.map((c) => c.name), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  const s = {
    metadata: { name: 'web', creationTimestamp: new Date(NOW - 45_000).toISOString() },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'web' } },
  };
  assert.deepEqual(servicePrinter.row(s as KubeObject, { now: NOW }).cells, ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP', '45s', 'app=web']);
  const bare = { metadata: { name: 'x' }, spec: {} };
  assert.deepEqual(servicePrinter.row(bare as KubeObject, { now: NOW }).cells, ['x', 'ClusterIP', '<none>', '<none>', '<none>', '<unknown>', '<none>']);
});

test('ENDPOINTS: three entries then "+ N more..."', () => {
  assert.equal(formatEndpoints(undefined), '<none>');
  assert.equal(formatEndpoints([]), '<none>');
  assert.equal(formatEndpoints([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }]), '10.0.0.1:80');
  const five = [{ addresses: ['1', '2', '3', '4', '5'].map((n) => ({ ip: `10.0.0.${n}` })), ports: [{ port: 80 }] }];
  assert.equal(formatEndpoints(five), '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...');
  const twoPorts = [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] }];
  assert.equal(formatEndpoints(twoPorts), '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...');
  assert.equal(formatEndpoints([{ addresses: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] }]), '10.0.0.1,fd00::1');
  assert.equal(formatEndpoints([{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] }]), '[fd00::1]:53');
  assert.equal(formatEndpoints([{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }]), '');
});

test('Endpoints row', () => {
  const ep = { metadata: { name: 'web', creationTimestamp: new Date(NOW - 600_000).toISOString() }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 8080 }] }] };
  assert.deepEqual(endpointsPrinter.row(ep as KubeObject, { now: NOW }).cells, ['web', '10.0.0.1:8080', '10m']);
});

test('EndpointSlice row: address type, up to three ports and addresses, <unset> when empty', () => {
  const slice = (ports: unknown[], addresses: string[][]): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-abc', creationTimestamp: new Date(NOW - 120_000).toISOString() },
    addressType: 'IPv4', ports, endpoints: addresses.map((a) => ({ addresses: a })),
  } as KubeObject);
  assert.deepEqual(endpointSlicePrinter.row(slice([{ name: 'http', port: 31000 }], [['127.0.0.2'], ['127.0.0.3']]), { now: NOW }).cells,
    ['web-abc', 'IPv4', '31000', '127.0.0.2,127.0.0.3', '2m']);
  assert.deepEqual(endpointSlicePrinter.row(slice([], []), { now: NOW }).cells.slice(2, 4), ['<unset>', '<unset>']);
  assert.equal(formatSlicePorts([{ port: 1 }, { name: 'named' }, {}, { port: 4 }, { port: 5 }]), '1,named,* + 2 more...');
  assert.equal(formatSliceEndpoints([{ addresses: ['a', 'b'] }, { addresses: ['c', 'd'] }]), 'a,b,c + 1 more...');
  assert.deepEqual(endpointSlicePrinter.columns.map((c) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
});
