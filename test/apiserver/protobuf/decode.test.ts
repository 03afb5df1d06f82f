// Round trips (objects encoded with protobufjs, then decoded) and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKubeProtobuf, isKubeProtobuf } from '../../../src/apiserver/protobuf/index.js';
import { isTriremeError } from '../../../src/errors.js';
import { body, encodeMessage, envelope, MAGIC } from './encode.js';

const CORE = 'k8s.io.api.core.v1';
const T = 1704164645; // 2024-01-02T03:04:05Z

test('Pod with probes, volumes, resources, int-or-string ports and times', () => {
  const pod = body('v1', 'Pod', `${CORE}.Pod`, {
    metadata: {
      name: 'web', namespace: 'default', uid: 'u-1', generation: 3,
      creationTimestamp: { seconds: T },
      deletionTimestamp: { seconds: T + 60, nanos: 5 },
      deletionGracePeriodSeconds: 0,
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs', controller: true }],
      managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', time: { seconds: T }, fieldsV1: { Raw: Buffer.from('{"f:spec":{}}') } }],
    },
    spec: {
      volumes: [
        { name: 'data', volumeSource: { emptyDir: { medium: 'Memory', sizeLimit: { string: '64Mi' } } } },
        { name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'c' }, items: [{ key: 'a', path: 'a.txt', mode: 0o400 }], defaultMode: 420 } } },
        { name: 'sec', volumeSource: { secret: { secretName: 's', optional: false } } },
      ],
      containers: [{
        name: 'app', image: 'nginx', args: ['-g', 'daemon off;'],
        ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'A', value: '' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        resources: { limits: { cpu: { string: '500m' }, memory: { string: '128Mi' } }, requests: { cpu: { string: '100m' } } },
        livenessProbe: { handler: { httpGet: { path: '/healthz', port: { type: 1, strVal: 'http' } } }, initialDelaySeconds: 5, periodSeconds: 10 },
        readinessProbe: { handler: { tcpSocket: { port: { type: 0, intVal: 80 } } }, terminationGracePeriodSeconds: 0 },
        startupProbe: { handler: { exec: { command: ['true'] } }, failureThreshold: 30 },
        volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
      }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      nodeSelector: { disk: 'ssd' },
      securityContext: { runAsUser: 1000, runAsNonRoot: true },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 300 }],
    },
    status: { phase: 'Running', startTime: { seconds: T }, podIPs: [{ ip: '10.0.0.5' }] },
  });
  assert.deepStrictEqual(decodeKubeProtobuf(pod), {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'web', namespace: 'default', uid: 'u-1', generation: 3,
      creationTimestamp: '2024-01-02T03:04:05Z',
      deletionTimestamp: '2024-01-02T03:05:05Z',
      deletionGracePeriodSeconds: 0,
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs', controller: true }],
      managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', time: '2024-01-02T03:04:05Z', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      volumes: [
        { name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'cfg', configMap: { name: 'c', items: [{ key: 'a', path: 'a.txt', mode: 0o400 }], defaultMode: 420 } },
        { name: 'sec', secret: { secretName: 's', optional: false } },
      ],
      containers: [{
        name: 'app', image: 'nginx', args: ['-g', 'daemon off;'],
        ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'A' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5, periodSeconds: 10 },
        readinessProbe: { tcpSocket: { port: 80 }, terminationGracePeriodSeconds: 0 },
        startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
        volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
      }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      nodeSelector: { disk: 'ssd' },
      securityContext: { runAsUser: 1000, runAsNonRoot: true },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 300 }],
    },
    status: { phase: 'Running', startTime: '2024-01-02T03:04:05Z', podIPs: [{ ip: '10.0.0.5' }] },
  });
});

test('Go JSON rules: required fields stay, empty structs render, pointers keep zero values', () => {
  const d = decodeKubeProtobuf(body('apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment', {
    spec: { replicas: 0, paused: false, template: { spec: { containers: [{ image: 'x' }] } } },
  }));
  assert.deepStrictEqual(d, {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { creationTimestamp: null },
    spec: {
      replicas: 0, // *int32: sent, so kept
      selector: null, // *LabelSelector without omitempty
      template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: '', image: 'x', resources: {} }] } },
      strategy: {},
    },
    status: {},
  });
  const pod = decodeKubeProtobuf(body('v1', 'Pod', `${CORE}.Pod`, {}));
  assert.deepStrictEqual(pod['spec'], { containers: null });
});

test('Secret and ConfigMap bytes become base64; strings stay', () => {
  const secret = decodeKubeProtobuf(body('v1', 'Secret', `${CORE}.Secret`, {
    metadata: { name: 's' }, immutable: true, type: 'Opaque',
    data: { p: Buffer.from('q'), bin: Buffer.from([0, 255, 1]) },
  }));
  assert.deepStrictEqual(secret, {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', creationTimestamp: null },
    immutable: true, type: 'Opaque', data: { p: 'cQ==', bin: 'AP8B' },
  });
  const cm = decodeKubeProtobuf(body('v1', 'ConfigMap', `${CORE}.ConfigMap`, {
    metadata: { name: 'c' }, data: { a: 'b' }, binaryData: { blob: Buffer.from('hi') },
  }));
  assert.deepStrictEqual(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', creationTimestamp: null }, data: { a: 'b' }, binaryData: { blob: 'aGk=' } });
});

test('Lease and events.k8s.io Event render MicroTime with 6 fractional digits', () => {
  const lease = decodeKubeProtobuf(body('coordination.k8s.io/v1', 'Lease', 'k8s.io.api.coordination.v1.Lease', {
    metadata: { name: 'n1', namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: { seconds: T, nanos: 123456789 }, acquireTime: { seconds: T } },
  }));
  assert.deepStrictEqual(lease['spec'], {
    holderIdentity: 'n1', leaseDurationSeconds: 40, acquireTime: '2024-01-02T03:04:05.000000Z', renewTime: '2024-01-02T03:04:05.123456Z',
  });
  const ev = decodeKubeProtobuf(body('events.k8s.io/v1', 'Event', 'k8s.io.api.events.v1.Event', {
    metadata: { name: 'e' }, eventTime: { seconds: T, nanos: 1000 }, reason: 'Started', type: 'Normal',
    regarding: { kind: 'Pod', name: 'p' }, deprecatedCount: 2,
  }));
  assert.equal(ev['apiVersion'], 'events.k8s.io/v1');
  assert.equal(ev['eventTime'], '2024-01-02T03:04:05.000001Z');
  assert.equal(ev['deprecatedCount'], 2);
  assert.equal(ev['deprecatedFirstTimestamp'], null);
  assert.deepStrictEqual(ev['regarding'], { kind: 'Pod', name: 'p' });
});

test('discovery.k8s.io EndpointSlice: addresses, conditions, nullable port', () => {
  const slice = decodeKubeProtobuf(body('discovery.k8s.io/v1', 'EndpointSlice', 'k8s.io.api.discovery.v1.EndpointSlice', {
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.22.2'], conditions: { ready: false, serving: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-1' } }],
    ports: [{ name: 'http', protocol: 'TCP', port: 30001 }, { name: 'any' }],
  }));
  assert.equal(slice['apiVersion'], 'discovery.k8s.io/v1');
  assert.equal(slice['addressType'], 'IPv4');
  assert.deepStrictEqual(slice['endpoints'], [{ addresses: ['127.0.22.2'], conditions: { ready: false, serving: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-1' } }]);
  assert.deepStrictEqual(slice['ports'], [{ name: 'http', protocol: 'TCP', port: 30001 }, { name: 'any' }]);
});

test('int64 values arrive as numbers', () => {
  const node = decodeKubeProtobuf(body('v1', 'Node', `${CORE}.Node`, {
    metadata: { name: 'n', generation: 9007199254740991 },
    status: { images: [{ names: ['nginx'], sizeBytes: 187654321012 }] },
  }));
  assert.equal((node.metadata as { generation?: unknown }).generation, 9007199254740991);
  assert.deepStrictEqual((node['status'] as { images: unknown }).images, [{ names: ['nginx'], sizeBytes: 187654321012 }]);
});

test('DeleteOptions is accepted under any group version', () => {
  const del = decodeKubeProtobuf(body('apps/v1', 'DeleteOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions', {
    propagationPolicy: 'Foreground', gracePeriodSeconds: 0,
  }));
  assert.deepStrictEqual(del, { apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground' });
});

test('fields unknown to our schema are skipped', () => {
  const raw = encodeMessage(`${CORE}.Namespace`, { metadata: { name: 'x' } });
  // field 99, length-delimited "hi"; field 98, varint 7 — a newer Kubernetes' additions.
  const extended = Buffer.concat([raw, Buffer.from([0x9a, 0x06, 2, 0x68, 0x69, 0x90, 0x06, 7])]);
  assert.deepStrictEqual(decodeKubeProtobuf(envelope('v1', 'Namespace', extended)), {
    apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', creationTimestamp: null }, spec: {}, status: {},
  });
});

function assertError(fn: () => unknown, code: 'BadRequest' | 'UnsupportedMediaType', pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isTriremeError(e, code) && pattern.test(e.message));
}

test('malformed bodies are BadRequest', () => {
  assertError(() => decodeKubeProtobuf(Buffer.from('{"kind":"Pod"}')), 'BadRequest', /magic/);
  assertError(() => decodeKubeProtobuf(Buffer.from('k8s')), 'BadRequest', /magic/);
  assertError(() => decodeKubeProtobuf(Buffer.concat([MAGIC, Buffer.from([0x0a, 0x50, 1, 2])])), 'BadRequest', /malformed protobuf in runtime.Unknown/);
  const truncated = encodeMessage(`${CORE}.ConfigMap`, { metadata: { name: 'c' }, data: { a: 'b' } }).subarray(0, 4); // cut inside metadata
  assertError(() => decodeKubeProtobuf(envelope('v1', 'ConfigMap', truncated)), 'BadRequest', /malformed protobuf in ConfigMap/);
  assertError(() => decodeKubeProtobuf(Buffer.concat([MAGIC, Buffer.from([0x12, 0])])), 'BadRequest', /no kind/);
  const gz = envelope('v1', 'ConfigMap', Buffer.alloc(0), { contentEncoding: 'gzip' });
  assertError(() => decodeKubeProtobuf(gz), 'BadRequest', /gzip/);
  const badFields = body('v1', 'Pod', `${CORE}.Pod`, { metadata: { managedFields: [{ fieldsV1: { Raw: Buffer.from('not json') } }] } });
  assertError(() => decodeKubeProtobuf(badFields), 'BadRequest', /FieldsV1/);
});

test('kinds without schema are UnsupportedMediaType naming the kind', () => {
  assertError(() => decodeKubeProtobuf(envelope('batch/v1', 'Job', Buffer.alloc(0))), 'UnsupportedMediaType', /Job/);
  assertError(() => decodeKubeProtobuf(envelope('v2', 'Pod', Buffer.alloc(0))), 'UnsupportedMediaType', /Pod in v2/);
});

test('isKubeProtobuf recognises the media type with parameters', () => {
  assert.equal(isKubeProtobuf('application/vnd.kubernetes.protobuf'), true);
  assert.equal(isKubeProtobuf('Application/VND.kubernetes.protobuf; charset=utf-8'), true);
  assert.equal(isKubeProtobuf('application/vnd.kubernetes.protobuf;stream=watch'), true);
  assert.equal(isKubeProtobuf('application/json'), false);
  assert.equal(isKubeProtobuf('application/vnd.kubernetes.protobuf+json'), false);
  assert.equal(isKubeProtobuf(undefined), false);
});
