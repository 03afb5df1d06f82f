// NodeMetrics / PodMetrics from usage summaries (src/api/metrics-api.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuQuantity, goDuration, memoryQuantity, nodeMetrics, podMetrics } from '../../src/api/metrics-api.js';
import type { KubeObject } from '../../src/api/object.js';
import type { ContainerStats } from '../../src/api/stats-summary.js';

const NOW = Date.parse('2026-12-02T10:00:10Z');
const T = '2026-12-02T10:00:08Z';
const cstats = (name: string, nano?: number): ContainerStats => ({
  name, startTime: '2026-12-02T09:00:00Z', processes: 1,
  cpu: { time: T, usageCoreNanoSeconds: 1e12, ...(nano === undefined ? {} : { usageNanoCores: nano, windowSeconds: 5.002 }) },
  memory: { time: T, workingSetBytes: 10 * 1024 * 1024 + 1 },
});

describe('quantities and durations', () => {
  const cases: [string, string, string][] = [
    [cpuQuantity(1.5e9), '1500000000n', 'cpu in nanocores'],
    [cpuQuantity(-3), '0n', 'never negative'],
    [memoryQuantity(1024), '1Ki', 'whole Ki'],
    [memoryQuantity(1025), '2Ki', 'rounded up'],
    [goDuration(5), '5s', 'whole seconds'],
    [goDuration(5.002), '5.002s', 'milliseconds'],
    [goDuration(0.25), '250ms', 'under a second'],
    [goDuration(65), '65s', 'no minutes'],
  ];
  for (const [got, want, name] of cases) test(name, () => assert.equal(got, want));
});

describe('nodeMetrics', () => {
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } };
  test('usage, timestamp of the sample, window, labels, creationTimestamp now', () => {
    const m = nodeMetrics(node, { nodeName: 'n1', cpu: { time: T, usageCoreNanoSeconds: 1, usageNanoCores: 2.5e8, windowSeconds: 5 }, memory: { time: T, workingSetBytes: 2048 } }, NOW) as unknown as Record<string, unknown>;
    assert.deepEqual(m, {
      apiVersion: 'metrics.k8s.io/v1beta1', kind: 'NodeMetrics',
      metadata: { name: 'n1', creationTimestamp: '2026-12-02T10:00:10Z', labels: { 'kubernetes.io/hostname': 'n1' } },
      timestamp: T, window: '5s', usage: { cpu: '250000000n', memory: '2Ki' },
    });
  });
  test('no rate yet: left out, not zero', () => {
    assert.equal(nodeMetrics(node, { nodeName: 'n1', cpu: { time: T, usageCoreNanoSeconds: 1 }, memory: { time: T, workingSetBytes: 1 } }, NOW), undefined);
  });
});

describe('podMetrics', () => {
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } }, spec: { containers: [{ name: 'a' }, { name: 'b' }] } };
  const ref = { name: 'web', namespace: 'default', uid: 'u1' };
  test('every container of the spec, in spec order', () => {
    const m = podMetrics(pod, { podRef: ref, containers: [cstats('b', 1e6), cstats('a', 2e6)] }, NOW) as unknown as { metadata: Record<string, unknown>; window: string; timestamp: string; containers: unknown[] };
    assert.deepEqual(m.containers, [{ name: 'a', usage: { cpu: '2000000n', memory: '10241Ki' } }, { name: 'b', usage: { cpu: '1000000n', memory: '10241Ki' } }]);
    assert.equal(m.window, '5.002s');
    assert.equal(m.timestamp, T);
    assert.deepEqual(m.metadata, { name: 'web', namespace: 'default', creationTimestamp: '2026-12-02T10:00:10Z', labels: { app: 'web' } });
  });
  test('a container without figures (not running, or no rate yet): the pod is left out', () => {
    assert.equal(podMetrics(pod, { podRef: ref, containers: [cstats('a', 1e6)] }, NOW), undefined);
    assert.equal(podMetrics(pod, { podRef: ref, containers: [cstats('a', 1e6), cstats('b')] }, NOW), undefined);
  });
});
