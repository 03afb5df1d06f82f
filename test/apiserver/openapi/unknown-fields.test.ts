import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindSchemaExists, unknownFields } from '../../../src/apiserver/openapi/index.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web', namespace: 'default', labels: { 'app.kubernetes.io/name': 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [{
          name: 'web', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }],
          env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { limits: { cpu: '500m', memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/', port: 'http' } },
        }],
      },
    },
  },
  status: { replicas: 2, conditions: [{ type: 'Available', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
});

test('a complete, valid Deployment has no unknown fields', () => {
  assert.deepEqual(unknownFields('apps/v1', 'Deployment', deployment()), []);
});

test('unknown fields are reported with their JSON paths, in document order', () => {
  const d = {
    apiVersion: 'apps/v1', kind: 'Deployment', extra: true,
    spec: {
      replicass: 3,
      template: { spec: { containers: [{ name: 'a', imagee: 'x', ports: [{ containerPort: 1, hostPortt: 1 }] }] } },
    },
  };
  assert.deepEqual(unknownFields('apps/v1', 'Deployment', d), [
    'extra',
    'spec.replicass',
    'spec.template.spec.containers[0].imagee',
    'spec.template.spec.containers[0].ports[0].hostPortt',
  ]);
});

test('maps accept any key; status and metadata fields are known', () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', labels: { anything: 'goes' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }] },
    spec: { containers: [{ name: 'c', image: 'i' }], nodeSelector: { 'kubernetes.io/os': 'linux' } },
    status: { phase: 'Running', podIP: '10.0.0.1', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: { startedAt: '2024-01-01T00:00:00Z' } } }] },
  };
  assert.deepEqual(unknownFields('v1', 'Pod', pod), []);
  assert.deepEqual(unknownFields('v1', 'Pod', { ...pod, status: { phasee: 'x' } }), ['status.phasee']);
  assert.deepEqual(unknownFields('v1', 'ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labelz: {} }, data: { k: 'v' } }), ['metadata.labelz']);
});

test('the two Event kinds are told apart by apiVersion', () => {
  assert.deepEqual(unknownFields('events.k8s.io/v1', 'Event', { note: 'n', reportingController: 'c' }), []);
  assert.deepEqual(unknownFields('v1', 'Event', { note: 'n', message: 'm' }), ['note']);
});

test('int-or-string, quantities and open objects are not descended into', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8080 }] } };
  assert.deepEqual(unknownFields('v1', 'Service', svc), []);
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2024-01-01T00:00:00.000000Z' } };
  assert.deepEqual(unknownFields('coordination.k8s.io/v1', 'Lease', lease), []);
});

test('list kinds and subresource kinds have schemas too', () => {
  assert.equal(kindSchemaExists('apps/v1', 'DeploymentList'), true);
  assert.equal(kindSchemaExists('autoscaling/v1', 'Scale'), true);
  assert.deepEqual(unknownFields('autoscaling/v1', 'Scale', { spec: { replicas: 3, replica: 1 } }), ['spec.replica']);
  assert.deepEqual(unknownFields('apps/v1', 'DeploymentList', { items: [{ spec: { paused: true, pausd: true } }] }), ['items[0].spec.pausd']);
});

test('kinds without a schema: kindSchemaExists is false and nothing is reported', () => {
  assert.equal(kindSchemaExists('apps/v1', 'Deployment'), true);
  assert.equal(kindSchemaExists('v1', 'Deployment'), false);
  assert.equal(kindSchemaExists('example.com/v1', 'Widget'), false);
  assert.deepEqual(unknownFields('example.com/v1', 'Widget', { anything: 1 }), []);
});

test('non-object input is tolerated', () => {
  assert.deepEqual(unknownFields('v1', 'Pod', null), []);
  assert.deepEqual(unknownFields('v1', 'Pod', 'text'), []);
  assert.deepEqual(unknownFields('v1', 'Pod', { spec: { containers: 'notalist' } }), []);
});
