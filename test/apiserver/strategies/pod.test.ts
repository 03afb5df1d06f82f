import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_NOT_READY_TOLERATION_SECONDS, POD, admitPod, podQosClass, podStrategy } from '../../../src/apiserver/strategies/pod.js';

test('QoS classes', () => {
  assert.equal(podQosClass({ spec: { containers: [{}] } }), 'BestEffort');
  assert.equal(podQosClass({ spec: { containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] } }), 'Guaranteed');
  assert.equal(podQosClass({ spec: { containers: [{ resources: { requests: { cpu: '1' } } }] } }), 'Burstable');
  assert.equal(podQosClass({ spec: { containers: [{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } } }] } }), 'Burstable');
});

test('admission adds the service account, priority and not-ready/unreachable tolerations, leaving its input alone', () => {
  const input = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }], tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] } };
  const before = structuredClone(input);
  const out = admitPod(input);
  assert.deepEqual(input, before);
  assert.deepEqual(out.spec, {
    containers: [{ name: 'c' }], serviceAccountName: 'default', serviceAccount: 'default', priority: 0, preemptionPolicy: 'PreemptLowerPriority',
    tolerations: [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_NOT_READY_TOLERATION_SECONDS },
    ],
  });
});

test('the toleration defaults are parameters (the API server flags), applied only where the pod has none', () => {
  const out = podStrategy({ notReadySeconds: 7, unreachableSeconds: 2 }).prepareCreate({ metadata: { name: 'p' }, spec: { containers: [{}] } });
  assert.deepEqual((out.spec as { tolerations?: unknown[] }).tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
  ]);
  const any = admitPod({ metadata: { name: 'p' }, spec: { tolerations: [{ operator: 'Exists' }] } }, { notReadySeconds: 7, unreachableSeconds: 2 });
  assert.deepEqual((any.spec as { tolerations?: unknown[] }).tolerations, [{ operator: 'Exists' }], 'a catch-all toleration covers both');
});

test('a new pod is Pending with its QoS class, whatever status it was sent with', () => {
  const out = POD.prepareCreate({ metadata: { name: 'p' }, spec: { containers: [{}] }, status: { phase: 'Running' } });
  assert.deepEqual(out.status, { phase: 'Pending', qosClass: 'BestEffort' });
});
