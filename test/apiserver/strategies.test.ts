import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeForUpdate, podQosClass, prepareForCreate } from '../../src/apiserver/strategies.js';
import { findResource } from '../../src/api/resources.js';
import { generateName, jsonEqual, specPart } from '../../src/apiserver/object-meta.js';

const deployments = findResource('apps', 'v1', 'deployments')!;
const configmaps = findResource('', 'v1', 'configmaps')!;

test('create resets a controller-owned status', () => {
  const d = { metadata: { name: 'x' }, spec: { replicas: 1 }, status: { replicas: 9 } };
  prepareForCreate(deployments, d);
  assert.deepEqual(d.status, {});
});

test('main-resource updates keep the stored status; status updates keep everything else', () => {
  const old = { metadata: { name: 'x', resourceVersion: '5' }, spec: { replicas: 1 }, status: { replicas: 1 } };
  const main = mergeForUpdate(deployments, { metadata: { name: 'x' }, spec: { replicas: 3 }, status: { replicas: 7 } }, old, undefined);
  assert.deepEqual(main.spec, { replicas: 3 });
  assert.deepEqual(main.status, { replicas: 1 });
  const status = mergeForUpdate(deployments, { metadata: { name: 'x', labels: { a: 'b' } }, spec: { replicas: 3 }, status: { replicas: 7 } }, old, 'status');
  assert.deepEqual(status.spec, { replicas: 1 });
  assert.deepEqual(status.status, { replicas: 7 });
  assert.equal(status.metadata?.labels, undefined);
  // Kinds without a status subresource take the update whole.
  const cm = { metadata: { name: 'c' }, data: { a: '1' } };
  assert.equal(mergeForUpdate(configmaps, cm, { metadata: { name: 'c' } }, undefined), cm);
});

test('QoS classes', () => {
  assert.equal(podQosClass({ spec: { containers: [{}] } }), 'BestEffort');
  assert.equal(podQosClass({ spec: { containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] } }), 'Guaranteed');
  assert.equal(podQosClass({ spec: { containers: [{ resources: { requests: { cpu: '1' } } }] } }), 'Burstable');
  assert.equal(podQosClass({ spec: { containers: [{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } } }] } }), 'Burstable');
});

test('metadata helpers', () => {
  let i = 0;
  assert.equal(generateName('web-', () => i++ % 3), 'web-bcdbc');
  assert.equal(generateName('x'.repeat(70), () => 0).length, 63);
  assert.deepEqual(specPart({ apiVersion: 'v1', kind: 'K', metadata: {}, status: {}, spec: { a: 1 }, data: {} }), { spec: { a: 1 }, data: {} });
  assert.ok(jsonEqual({ a: [1, { b: 2 }], c: undefined }, { a: [1, { b: 2 }] }));
  assert.ok(!jsonEqual({ a: [1, 2] }, { a: [2, 1] }));
});
