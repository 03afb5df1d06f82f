import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, defaultPullPolicy } from '../../../src/api/defaults/index.js';
import type { KubeObject } from '../../../src/api/object.js';

// What `kubectl create deployment nginx --image=nginx` stores in Kubernetes 1.32, as
// `kubectl get deploy nginx -o yaml` shows it (metadata and status trimmed).
test('Deployment gets exactly the Kubernetes 1.32 defaults', () => {
  const input: KubeObject = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' } },
    spec: {
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } },
    },
  };
  const out = applyDefaults(input);
  assert.deepEqual(out.spec, {
    progressDeadlineSeconds: 600,
    replicas: 1,
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app: 'nginx' } },
    strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
    template: {
      metadata: { creationTimestamp: null, labels: { app: 'nginx' } },
      spec: {
        containers: [{
          image: 'nginx', imagePullPolicy: 'Always', name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
        }],
        dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', schedulerName: 'default-scheduler',
        securityContext: {}, terminationGracePeriodSeconds: 30,
      },
    },
  });
  assert.equal((input.spec as { replicas?: number }).replicas, undefined, 'input is not mutated');
  assert.deepEqual(applyDefaults(out), out, 'defaulting is idempotent');
});

test('explicit values are kept and Recreate gets no rollingUpdate', () => {
  const out = applyDefaults({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' },
    spec: { replicas: 0, strategy: { type: 'Recreate' }, revisionHistoryLimit: 2, template: { spec: { containers: [] } } },
  });
  const spec = out.spec as Record<string, unknown>;
  assert.equal(spec.replicas, 0);
  assert.equal(spec.revisionHistoryLimit, 2);
  assert.deepEqual(spec.strategy, { type: 'Recreate' });
});

test('Pod gets pod-only defaults and container/probe/volume/env defaults', () => {
  const out = applyDefaults({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
    spec: {
      containers: [{
        name: 'c', image: 'registry:5000/app:1.2',
        resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '100m' } },
        livenessProbe: { httpGet: { port: 8080 } },
        readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
        env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      }],
      volumes: [{ name: 'a' }, { name: 'b', configMap: { name: 'cm' } }, { name: 'c', secret: { secretName: 's' } }, { name: 'd', hostPath: { path: '/tmp' } }],
    },
  });
  const spec = out.spec as Record<string, unknown>;
  assert.equal(spec.enableServiceLinks, true);
  const c = (spec.containers as Record<string, unknown>[])[0] ?? {};
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(c.resources, { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '100m', memory: '1Gi' } });
  assert.deepEqual(c.livenessProbe, { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.readinessProbe, { tcpSocket: { port: 80 }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.env, [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName', apiVersion: 'v1' } } }]);
  assert.deepEqual(spec.volumes, [
    { name: 'a', emptyDir: {} },
    { name: 'b', configMap: { name: 'cm', defaultMode: 420 } },
    { name: 'c', secret: { secretName: 's', defaultMode: 420 } },
    { name: 'd', hostPath: { path: '/tmp', type: '' } },
  ]);
});

test('pod templates do not get pod-only defaults', () => {
  const out = applyDefaults({
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: '1' } } }] } } },
  });
  const tpl = (out.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  assert.equal(tpl.enableServiceLinks, undefined);
  assert.deepEqual((tpl.containers as Record<string, unknown>[])[0]?.resources, { limits: { cpu: '1' } });
  assert.equal((out.spec as Record<string, unknown>).replicas, 1);
});

test('hostNetwork pods default hostPort to containerPort', () => {
  const out = applyDefaults({ apiVersion: 'v1', kind: 'Pod', spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 53 }] }] } });
  const c = ((out.spec as Record<string, unknown>).containers as Record<string, unknown>[])[0];
  assert.deepEqual(c?.ports, [{ containerPort: 53, protocol: 'TCP', hostPort: 53 }]);
});

test('imagePullPolicy follows the tag', () => {
  const cases: [string, string][] = [
    ['nginx', 'Always'], ['nginx:latest', 'Always'], ['nginx:1.25', 'IfNotPresent'],
    ['localhost:5000/nginx', 'Always'], ['localhost:5000/nginx:v1', 'IfNotPresent'],
    ['nginx@sha256:abcd', 'IfNotPresent'], ['nginx:latest@sha256:abcd', 'Always'], ['', 'IfNotPresent'],
  ];
  for (const [image, want] of cases) assert.equal(defaultPullPolicy(image), want, image);
});

test('DaemonSet and StatefulSet defaults', () => {
  const ds = applyDefaults({ apiVersion: 'apps/v1', kind: 'DaemonSet', spec: { template: { spec: { containers: [] } } } });
  const dsSpec = ds.spec as Record<string, unknown>;
  assert.deepEqual(dsSpec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(dsSpec.revisionHistoryLimit, 10);

  const sts = applyDefaults({
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    spec: { template: { spec: { containers: [] } }, volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }] },
  });
  const s = sts.spec as Record<string, unknown>;
  assert.equal(s.replicas, 1);
  assert.equal(s.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(s.revisionHistoryLimit, 10);
  assert.deepEqual(s.volumeClaimTemplates, [{
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'www', creationTimestamp: null },
    spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' }, status: { phase: 'Pending' },
  }]);

  const onDelete = applyDefaults({ apiVersion: 'apps/v1', kind: 'StatefulSet', spec: { updateStrategy: { type: 'OnDelete' } } });
  assert.deepEqual((onDelete.spec as Record<string, unknown>).updateStrategy, { type: 'OnDelete' });
});

test('Service defaults', () => {
  const out = applyDefaults({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] } });
  assert.deepEqual(out.spec, {
    selector: { app: 'a' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }],
    type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'],
  });
  const lb = applyDefaults({ apiVersion: 'v1', kind: 'Service', spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 1 }] } });
  const spec = lb.spec as Record<string, unknown>;
  assert.equal(spec.externalTrafficPolicy, 'Cluster');
  assert.equal(spec.allocateLoadBalancerNodePorts, true);
  assert.deepEqual(spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  const ext = applyDefaults({ apiVersion: 'v1', kind: 'Service', spec: { type: 'ExternalName', externalName: 'example.com' } });
  assert.deepEqual(ext.spec, { type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
});

test('Secret, Namespace, Node, Endpoints defaults', () => {
  const secret = applyDefaults({ apiVersion: 'v1', kind: 'Secret', data: { a: 'eA==' }, stringData: { b: 'hello' } });
  assert.equal(secret.type, 'Opaque');
  assert.deepEqual(secret.data, { a: 'eA==', b: 'aGVsbG8=' });
  assert.equal(secret.stringData, undefined);

  const ns = applyDefaults({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  assert.deepEqual(ns.metadata?.labels, { 'kubernetes.io/metadata.name': 'team' });
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });

  const node = applyDefaults({ apiVersion: 'v1', kind: 'Node', status: { capacity: { cpu: '4' } } });
  assert.deepEqual((node.status as Record<string, unknown>).allocatable, { cpu: '4' });

  const ep = applyDefaults({ apiVersion: 'v1', kind: 'Endpoints', subsets: [{ ports: [{ port: 80 }] }] });
  assert.deepEqual(ep.subsets, [{ ports: [{ port: 80, protocol: 'TCP' }] }]);
});

test('kinds without defaults pass through as copies', () => {
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } };
  const out = applyDefaults(cm);
  assert.deepEqual(out, cm);
  assert.notEqual(out, cm);
});
