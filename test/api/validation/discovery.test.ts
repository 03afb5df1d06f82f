import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../../src/api/defaults/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { validateCreate, validateUpdate } from '../../../src/api/validation/index.js';

const slice = (body: Record<string, unknown>): KubeObject =>
  applyDefaults({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'default' }, ...body });
const fields = (obj: KubeObject): [string, string][] => validateCreate(obj).map((c) => [c.field, c.reason]);

test('EndpointSlice: a valid slice; ports defaulted to name "" and TCP', () => {
  const s = slice({ addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.2'], conditions: { ready: true }, nodeName: 'n1', hostname: 'web-0' }], ports: [{ port: 31000 }] });
  assert.deepEqual(validateCreate(s), []);
  assert.deepEqual((s as { ports?: unknown }).ports, [{ name: '', port: 31000, protocol: 'TCP' }]);
  assert.deepEqual(validateCreate(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com'] }] })), []);
  assert.deepEqual(validateCreate(slice({ addressType: 'IPv4', endpoints: [] })), []);
});

test('EndpointSlice: addressType, addresses, hostname, ports', () => {
  assert.deepEqual(fields(slice({ endpoints: [] })), [['addressType', 'FieldValueRequired']]);
  assert.deepEqual(fields(slice({ addressType: 'IPX', endpoints: [] })), [['addressType', 'FieldValueNotSupported']]);
  assert.deepEqual(fields(slice({
    addressType: 'IPv4',
    endpoints: [{ addresses: [] }, { addresses: ['fd00::1'], hostname: 'Bad_Name' }],
    ports: [{ name: 'http', port: 0 }, { name: 'http', port: 80, protocol: 'ICMP' }],
  })), [
    ['endpoints[0].addresses', 'FieldValueRequired'],
    ['endpoints[1].addresses[0]', 'FieldValueInvalid'],
    ['endpoints[1].hostname', 'FieldValueInvalid'],
    ['ports[0].port', 'FieldValueInvalid'],
    ['ports[1].name', 'FieldValueDuplicate'],
    ['ports[1].protocol', 'FieldValueNotSupported'],
  ]);
  const many = Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`);
  assert.deepEqual(fields(slice({ addressType: 'IPv4', endpoints: [{ addresses: many }] })), [['endpoints[0].addresses', 'FieldValueTooMany']]);
});

test('EndpointSlice: addressType is immutable', () => {
  const old = slice({ addressType: 'IPv4', endpoints: [] });
  assert.deepEqual(validateUpdate(slice({ addressType: 'IPv6', endpoints: [] }), old).map((c) => c.message), ['Invalid value: "IPv6": field is immutable']);
});
