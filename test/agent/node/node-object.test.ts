import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConditionDecision } from '../../../src/agent/node/conditions.js';
import { capacityAndAllocatable, newNode, nodeStatus, statusChanged, type NodeParams } from '../../../src/agent/node/node-object.js';
import type { HostFacts } from '../../../src/agent/node/readings.js';
import { NO_RESERVATION, parseSystemReserved } from '../../../src/agent/node/thresholds.js';

const params: NodeParams = { nodeName: 'n1', nodeIp: '10.0.0.1', kubeletPort: 10250, version: '0.1.0', runtimeName: 'process', runtimeVersion: '1', maxPods: 110 };
const facts: HostFacts = {
  cpus: 4, memoryBytes: 16 * 2 ** 30 + 100, kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)', hostname: 'h',
  architecture: 'arm64', operatingSystem: 'linux', machineID: 'm', bootID: 'b', systemUUID: '',
};
const ok = (type: ConditionDecision['type'], status: ConditionDecision['status'] = type === 'Ready' ? 'True' : 'False'): ConditionDecision => ({ type, status, reason: 'r', message: 'm' });
const healthy = [ok('MemoryPressure'), ok('DiskPressure'), ok('PIDPressure'), ok('Ready')];
const T0 = Date.parse('2024-05-01T12:00:00Z');

describe('node object', () => {
  it('capacity from the host, allocatable = capacity - system reservation, as the kubelet writes quantities', () => {
    assert.deepEqual(capacityAndAllocatable(params, facts, 100 * 2 ** 30, NO_RESERVATION), {
      capacity: { cpu: '4', memory: '16777216Ki', pods: '110', 'ephemeral-storage': '104857600Ki' },
      allocatable: { cpu: '4', memory: '16777216Ki', pods: '110', 'ephemeral-storage': '104857600Ki' },
    });
    const r = capacityAndAllocatable(params, facts, 100 * 2 ** 30, parseSystemReserved('cpu=500m,memory=1Gi,ephemeral-storage=1Gi,pid=1000'));
    assert.deepEqual(r.allocatable, { cpu: '3500m', memory: '15728640Ki', pods: '110', 'ephemeral-storage': '103809024Ki' });
  });

  it('allocatable never goes below zero; without a filesystem reading there is no ephemeral-storage', () => {
    const r = capacityAndAllocatable(params, facts, undefined, parseSystemReserved('cpu=8,memory=1Ti'));
    assert.deepEqual(r.allocatable, { cpu: '0', memory: '0Ki', pods: '110' });
  });

  it('labels and nodeInfo carry the host\'s architecture and OS', () => {
    const n = newNode(params, facts, { conditions: healthy, ephemeralStorageBytes: undefined }, NO_RESERVATION, T0);
    assert.equal(n.metadata?.labels?.['kubernetes.io/arch'], 'arm64');
    assert.equal(n.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(n.status?.nodeInfo?.architecture, 'arm64');
    assert.equal(n.status?.nodeInfo?.operatingSystem, 'linux');
    assert.equal(n.status?.nodeInfo?.osImage, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(n.status?.nodeInfo?.bootID, 'b');
  });

  it('lastTransitionTime changes only with the status; lastHeartbeatTime on every status', () => {
    const state = (cs: ConditionDecision[]) => ({ conditions: cs, ephemeralStorageBytes: undefined });
    const s0 = nodeStatus(params, facts, state(healthy), NO_RESERVATION, undefined, T0);
    const s1 = nodeStatus(params, facts, state(healthy), NO_RESERVATION, s0, T0 + 10_000);
    const disk = (s: typeof s0) => s.conditions?.find((c) => c.type === 'DiskPressure');
    assert.equal(disk(s1)?.lastTransitionTime, '2024-05-01T12:00:00Z');
    assert.equal(disk(s1)?.lastHeartbeatTime, '2024-05-01T12:00:10Z');
    assert.equal(statusChanged(s0, s1), false, 'only heartbeat times differ');
    const s2 = nodeStatus(params, facts, state([ok('MemoryPressure'), ok('DiskPressure', 'True'), ok('PIDPressure'), ok('Ready')]), NO_RESERVATION, s1, T0 + 20_000);
    assert.equal(disk(s2)?.lastTransitionTime, '2024-05-01T12:00:20Z');
    assert.equal(s2.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, '2024-05-01T12:00:00Z');
    assert.equal(statusChanged(s1, s2), true);
  });
});
