import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TOLERATION_SECONDS, POD, admitPod, podQosClass } from '../../../src/apiserver/strategies/pod.js';

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
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS },
    ],
  });
});

test('a new pod is Pending with its QoS class, whatever status it was sent with', () => {
  const out = POD.prepareCreate({ metadata: { name: 'p' }, spec: { containers: [{}] }, status: { phase: 'Running' } });
  assert.deepEqual(out.status, { phase: 'Pending', qosClass: 'BestEffort' });
});
