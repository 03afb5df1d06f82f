import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1.js';
import { nodePrinter, nodeRoles, nodeStatus } from '../../../src/api/tables/node.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const node = (n: Partial<Node>): Node => ({ metadata: { name: 'n1', ...n.metadata }, spec: n.spec ?? {}, status: n.status ?? {} });

test('STATUS from the Ready condition, plus SchedulingDisabled', () => {
  assert.equal(nodeStatus(node({ status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }] } })), 'Ready');
  assert.equal(nodeStatus(node({ status: { conditions: [{ type: 'Ready', status: 'False' }] } })), 'NotReady');
  assert.equal(nodeStatus(node({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } })), 'NotReady');
  assert.equal(nodeStatus(node({})), 'Unknown');
  assert.equal(nodeStatus(node({ spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })), 'Ready,SchedulingDisabled');
  assert.equal(nodeStatus(node({ spec: { unschedulable: true } })), 'Unknown,SchedulingDisabled');
});

test('ROLES from node-role labels and the legacy role label', () => {
  assert.equal(nodeRoles(node({})), '<none>');
  assert.equal(nodeRoles(node({ metadata: { labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/': 'x' } } })), 'control-plane,worker');
  assert.equal(nodeRoles(node({ metadata: { labels: { 'kubernetes.io/role': 'master', 'node-role.kubernetes.io/master': '' } } })), 'master');
  assert.equal(nodeRoles(node({ metadata: { labels: { 'kubernetes.io/role': '' } } })), '<none>');
});

test('Node row with wide columns', () => {
  assert.deepEqual(nodePrinter.columns.map((c) => c.name),
    ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime']);
  const n = node({
    metadata: { name: 'n1', creationTimestamp: new Date(NOW - 3 * 86400_000).toISOString() },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '127.0.0.2' }],
      nodeInfo: { kubeletVersion: 'v1.32.0+trireme', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: '', architecture: 'amd64', bootID: '', kubeProxyVersion: '', machineID: '', operatingSystem: 'linux', systemUUID: '' },
    },
  });
  assert.deepEqual(nodePrinter.row(n as KubeObject, { now: NOW }).cells,
    ['n1', 'Ready', '<none>', '3d', 'v1.32.0+trireme', '127.0.0.2', '<none>', 'Debian GNU/Linux 12', '6.1.0', '<unknown>']);
});
