import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../../src/api/defaults/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { validateCreate } from '../../../src/api/validation/index.js';

function fields(obj: KubeObject): [string, string][] {
  return validateCreate(obj).map((c) => [c.field, c.reason]);
}

test('Namespace: DNS-1123 label name, cluster-scoped', () => {
  assert.deepEqual(validateCreate(applyDefaults({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } })), []);
  assert.deepEqual(fields({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team.a' } }), [['metadata.name', 'FieldValueInvalid']]);
  assert.deepEqual(fields({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', namespace: 'b' } }), [['metadata.namespace', 'FieldValueForbidden']]);
});

test('Node: subdomain name and taints', () => {
  assert.deepEqual(validateCreate({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1.example' } }), []);
  assert.deepEqual(fields({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints: [{ key: 'k', effect: 'Sometimes' }, { key: 'bad key', effect: 'NoSchedule' }] } }),
    [['spec.taints[0].effect', 'FieldValueNotSupported'], ['spec.taints[1].key', 'FieldValueInvalid']]);
});

test('Lease: durations and transitions', () => {
  const lease = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec });
  assert.deepEqual(validateCreate(lease({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 })), []);
  assert.deepEqual(fields(lease({ leaseDurationSeconds: 0 })), [['spec.leaseDurationSeconds', 'FieldValueInvalid']]);
  assert.deepEqual(fields(lease({ leaseTransitions: -1, holderIdentity: 5 })), [['spec.leaseTransitions', 'FieldValueInvalid'], ['spec.holderIdentity', 'FieldValueInvalid']]);
});

test('Events: core v1 needs involvedObject, events.k8s.io needs regarding and reporter', () => {
  const core = (extra: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'p.17a', namespace: 'default' }, ...extra });
  assert.deepEqual(validateCreate(core({ involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Started' })), []);
  assert.deepEqual(fields(core({})), [['involvedObject', 'FieldValueRequired']]);
  assert.deepEqual(fields(core({ involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } })), [['involvedObject.namespace', 'FieldValueInvalid']]);

  const ev = (extra: Record<string, unknown>): KubeObject => ({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'p.17a', namespace: 'default' }, ...extra });
  const good = { regarding: { kind: 'Pod', name: 'p' }, reportingController: 'trireme.io/scheduler', reportingInstance: 'server-1', action: 'Binding', reason: 'Scheduled', eventTime: '2025-01-01T00:00:00.000000Z', type: 'Normal' };
  assert.deepEqual(validateCreate(ev(good)), []);
  assert.deepEqual(fields(ev({ ...good, regarding: undefined, type: 'Loud' })), [['regarding', 'FieldValueRequired'], ['type', 'FieldValueNotSupported']]);
  assert.deepEqual(fields(ev({ ...good, reportingController: '', eventTime: '' })), [['reportingController', 'FieldValueRequired'], ['eventTime', 'FieldValueRequired']]);
});

test('Endpoints: addresses and ports', () => {
  const ep = (subsets: unknown): KubeObject => applyDefaults({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets });
  assert.deepEqual(validateCreate(ep([{ addresses: [{ ip: '127.0.0.2' }], ports: [{ port: 8080 }] }])), []);
  assert.deepEqual(fields(ep([{ addresses: [{ ip: 'nope' }], ports: [{ port: 0 }, { port: 1, name: 'b' }] }])),
    [['subsets[0].addresses[0].ip', 'FieldValueInvalid'], ['subsets[0].ports[0].name', 'FieldValueRequired'], ['subsets[0].ports[0].port', 'FieldValueInvalid']]);
});

test('ServiceAccount and ConfigMap names are DNS-1123 subdomains', () => {
  assert.deepEqual(validateCreate({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'ns' } }), []);
  assert.deepEqual(fields({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'Default', namespace: 'ns' } }), [['metadata.name', 'FieldValueInvalid']]);
});
