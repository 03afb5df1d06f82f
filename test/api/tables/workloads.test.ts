import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from '../../../src/api/tables/workloads.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const created = new Date(NOW - 51 * 3600_000).toISOString(); // 2d3h
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] } };
const names = (p: { columns: readonly { name: string; priority: number }[] }): string[] => p.columns.map((c) => (c.priority ? `${c.name}*` : c.name));

test('Deployment: READY ready/desired, counts, wide containers and selector', () => {
  assert.deepEqual(names(deploymentPrinter), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const d = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', creationTimestamp: created },
    spec: {
      replicas: 3, template,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }, { key: 'legacy', operator: 'DoesNotExist' }] },
    },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  };
  assert.deepEqual(deploymentPrinter.row(d as KubeObject, { now: NOW }).cells,
    ['web', '2/3', 3, 2, '2d3h', 'web,log', 'nginx:1.25,busybox', 'app=web,!legacy,tier in (back,front)']);
  const fresh = { metadata: { name: 'new', creationTimestamp: created }, spec: { template, selector: {} } };
  assert.deepEqual(deploymentPrinter.row(fresh as KubeObject, { now: NOW }).cells.slice(1, 4), ['0/1', 0, 0]);
  assert.equal(deploymentPrinter.row(fresh as KubeObject, { now: NOW }).cells[7], '');
  const bad = { metadata: { name: 'x' }, spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } } };
  assert.equal(deploymentPrinter.row(bad as KubeObject, { now: NOW }).cells[7], '<invalid>');
});

test('ReplicaSet: DESIRED CURRENT READY, <none> for an empty selector', () => {
  assert.deepEqual(names(replicaSetPrinter), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const rs = { metadata: { name: 'web-5d9', creationTimestamp: created }, spec: { replicas: 2, template, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d9' } } }, status: { replicas: 2, readyReplicas: 1 } };
  assert.deepEqual(replicaSetPrinter.row(rs as KubeObject, { now: NOW }).cells,
    ['web-5d9', 2, 2, 1, '2d3h', 'web,log', 'nginx:1.25,busybox', 'app=web,pod-template-hash=5d9']);
  const empty = { metadata: { name: 'e' }, spec: { replicas: 0, selector: {} } };
  assert.deepEqual(replicaSetPrinter.row(empty as KubeObject, { now: NOW }).cells, ['e', 0, 0, 0, '<unknown>', '', '', '<none>']);
});

test('DaemonSet: scheduling counts and NODE SELECTOR', () => {
  assert.deepEqual(names(daemonSetPrinter),
    ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const ds = {
    metadata: { name: 'agent', creationTimestamp: created },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' }, containers: [{ name: 'a', image: 'agent:1' }] } } },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
  };
  assert.deepEqual(daemonSetPrinter.row(ds as KubeObject, { now: NOW }).cells,
    ['agent', 3, 3, 2, 3, 2, 'disk=ssd,kubernetes.io/os=linux', '2d3h', 'a', 'agent:1', 'app=agent']);
  const noSel = { metadata: { name: 'x' }, spec: { template: { spec: { containers: [] } } } };
  assert.equal(daemonSetPrinter.row(noSel as KubeObject, { now: NOW }).cells[6], '<none>');
});

test('StatefulSet: READY ready/desired and wide containers', () => {
  assert.deepEqual(names(statefulSetPrinter), ['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
  const ss = { metadata: { name: 'db', creationTimestamp: created }, spec: { replicas: 3, template }, status: { readyReplicas: 3 } };
  assert.deepEqual(statefulSetPrinter.row(ss as KubeObject, { now: NOW }).cells, ['db', '3/3', '2d3h', 'web,log', 'nginx:1.25,busybox']);
});
