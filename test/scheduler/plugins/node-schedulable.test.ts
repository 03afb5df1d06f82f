import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterNodeSchedulable, REASON_NOT_READY, REASON_UNSCHEDULABLE } from '../../../src/scheduler/plugins/node-schedulable.js';
import { info, node, nodeInfo, pod } from '../fixtures.js';

test('ready, schedulable node passes', () => {
  assert.equal(filterNodeSchedulable(info(pod('p')), nodeInfo(node('n'))), null);
});

test('not ready or cordoned nodes are rejected', () => {
  assert.equal(filterNodeSchedulable(info(pod('p')), nodeInfo(node('n', { ready: false }))), REASON_NOT_READY);
  assert.equal(filterNodeSchedulable(info(pod('p')), nodeInfo(node('n', { unschedulable: true }))), REASON_UNSCHEDULABLE);
  const noConditions = nodeInfo({ metadata: { name: 'n' }, status: {} });
  assert.equal(filterNodeSchedulable(info(pod('p')), noConditions), REASON_NOT_READY);
});

test('tolerations of the not-ready / unschedulable taints let the pod through', () => {
  const ds = info(pod('p', { tolerations: [
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists' },
  ] }));
  assert.equal(filterNodeSchedulable(ds, nodeInfo(node('n', { unschedulable: true, ready: false }))), null);
});
