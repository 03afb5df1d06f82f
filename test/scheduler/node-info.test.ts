import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeInfo } from '../../src/scheduler/node-info.js';
import { info, node, pod } from './fixtures.js';

test('aggregates follow adds and removes', () => {
  const ni = new NodeInfo(node('n1'));
  const a = pod('a', { cpu: '1', containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }], resources: { requests: { cpu: '1' } } }] }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs1', controller: true }] });
  const b = pod('b', { cpu: '500m', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: {} }] } } });
  ni.addPod(info(a));
  ni.addPod(info(b));
  ni.addPod(info(b)); // idempotent
  assert.equal(ni.requested.milliCpu, 1500);
  assert.equal(ni.requested.pods, 2);
  assert.equal(ni.ownerCounts.get('rs1'), 1);
  assert.ok(ni.usedPorts.get('TCP/8080')?.has('0.0.0.0'));
  assert.equal(ni.podsWithRequiredAntiAffinity.size, 1);
  ni.removePod('default/a');
  ni.removePod('default/missing');
  assert.equal(ni.requested.milliCpu, 500);
  assert.equal(ni.ownerCounts.size, 0);
  assert.equal(ni.usedPorts.size, 0);
  ni.removePod('default/b');
  assert.equal(ni.requested.pods, 0);
  assert.equal(ni.podsWithRequiredAntiAffinity.size, 0);
  assert.equal(ni.nonZeroRequested.milliCpu, 0);
});

test('ready and unschedulable come from the Node', () => {
  const ni = new NodeInfo(node('n1', { ready: false, unschedulable: true }));
  assert.equal(ni.ready, false);
  assert.equal(ni.unschedulable, true);
  ni.setNode(node('n1'));
  assert.equal(ni.ready, true);
  assert.equal(ni.unschedulable, false);
});
