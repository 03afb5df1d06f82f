import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROLLER_STATUS, GENERIC, mergeForUpdate } from '../../../src/apiserver/strategies/generic.js';
import { findResource } from '../../../src/api/resources.js';

const deployments = findResource('apps', 'v1', 'deployments')!;
const configmaps = findResource('', 'v1', 'configmaps')!;

test('create resets a controller-owned status, without touching its input', () => {
  const d = { metadata: { name: 'x' }, spec: { replicas: 1 }, status: { replicas: 9 } };
  const out = CONTROLLER_STATUS.prepareCreate(d);
  assert.deepEqual(out.status, {});
  assert.deepEqual(d.status, { replicas: 9 });
  const cm = { metadata: { name: 'c' }, data: { a: '1' } };
  assert.equal(GENERIC.prepareCreate(cm), cm);
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
