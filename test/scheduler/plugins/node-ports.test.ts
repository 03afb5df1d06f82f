import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { filterNodePorts, REASON_NODE_PORTS } from '../../../src/scheduler/plugins/node-ports.js';
import { info, node, nodeInfo, pod } from '../fixtures.js';

const withPort = (name: string, hostPort: number, protocol = 'TCP', hostIP?: string): Pod =>
  pod(name, { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort, protocol, ...(hostIP ? { hostIP } : {}) }] }] });

test('same port and protocol conflicts', () => {
  const n = nodeInfo(node('n'), withPort('x', 8080));
  assert.equal(filterNodePorts(info(withPort('p', 8080)), n), REASON_NODE_PORTS);
  assert.equal(filterNodePorts(info(withPort('p', 8081)), n), null);
  assert.equal(filterNodePorts(info(withPort('p', 8080, 'UDP')), n), null);
  assert.equal(filterNodePorts(info(pod('p')), n), null);
});

test('host IPs: distinct specific IPs coexist, 0.0.0.0 conflicts with all', () => {
  const n = nodeInfo(node('n'), withPort('x', 53, 'UDP', '127.0.0.2'));
  assert.equal(filterNodePorts(info(withPort('p', 53, 'UDP', '127.0.0.3')), n), null);
  assert.equal(filterNodePorts(info(withPort('p', 53, 'UDP', '127.0.0.2')), n), REASON_NODE_PORTS);
  assert.equal(filterNodePorts(info(withPort('p', 53, 'UDP')), n), REASON_NODE_PORTS);
  const any = nodeInfo(node('n'), withPort('x', 53, 'UDP'));
  assert.equal(filterNodePorts(info(withPort('p', 53, 'UDP', '127.0.0.3')), any), REASON_NODE_PORTS);
});

test('hostNetwork container ports count as host ports', () => {
  const hn = pod('x', { hostNetwork: true, containers: [{ name: 'c', ports: [{ containerPort: 9000 }] }] });
  const n = nodeInfo(node('n'), hn);
  assert.equal(filterNodePorts(info(withPort('p', 9000)), n), REASON_NODE_PORTS);
});
