import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { templateHash, templatesEqual, safeEncode } from '../../../src/controllers/common/template-hash.js';
import type { PodTemplateSpec } from '../../../src/controllers/common/types.js';

const stored: PodTemplateSpec = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [{ name: 'app', image: 'web:1', resources: {}, terminationMessagePath: '/dev/termination-log', imagePullPolicy: 'IfNotPresent' }],
    restartPolicy: 'Always', securityContext: {}, terminationGracePeriodSeconds: 30,
  },
};

describe('template hashing', () => {
  it('is stable and uses only the safe alphabet', () => {
    const h = templateHash(stored);
    assert.equal(templateHash(structuredClone(stored)), h);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });
  it('ignores what rollout undo adds or removes: the hash label, creationTimestamp: null, empty maps, key order', () => {
    const fromRs = structuredClone(stored) as PodTemplateSpec & { metadata: Record<string, unknown> };
    fromRs.metadata.labels = { 'pod-template-hash': 'abc', app: 'web' };
    (fromRs.metadata as Record<string, unknown>).creationTimestamp = null;
    const reordered: PodTemplateSpec = { spec: { ...fromRs.spec!, securityContext: undefined }, metadata: fromRs.metadata };
    assert.ok(templatesEqual(stored, fromRs));
    assert.equal(templateHash(reordered), templateHash(stored));
  });
  it('changes with the template and with the collision count', () => {
    const other = structuredClone(stored);
    other.spec!.containers[0]!.image = 'web:2';
    assert.notEqual(templateHash(other), templateHash(stored));
    assert.ok(!templatesEqual(other, stored));
    assert.notEqual(templateHash(stored, 1), templateHash(stored));
    assert.equal(templateHash(stored, 0), templateHash(stored));
  });
  it('a restart annotation is a new template', () => {
    const restarted = structuredClone(stored);
    restarted.metadata!.annotations = { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' };
    assert.notEqual(templateHash(restarted), templateHash(stored));
  });
  it('safeEncode maps characters into the alphabet as Kubernetes does', () => {
    assert.equal(safeEncode('0'), 'bcdfghjklmnpqrstvwxz2456789'[48 % 27]);
  });
});
