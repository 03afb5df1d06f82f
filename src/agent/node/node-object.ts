// The Node object this agent registers: capacity from the host, allocatable = capacity minus the
// system reservation, addresses, node info, labels, conditions and the kubelet endpoint.
// Guarantees: pure given its inputs (host facts and readings come from readings.ts, conditions
// from conditions.ts); a condition keeps its lastTransitionTime while its status stays the same
// and gets a fresh lastHeartbeatTime on every status computed; allocatable never goes below
// zero. Does not: decide taints or schedulability (the node lifecycle controller derives taints
// from these conditions; users own the rest of spec).
import type { Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { ConditionDecision } from './conditions.js';
import type { HostFacts } from './readings.js';
import type { SystemReserved } from './thresholds.js';
import { kubeTime } from '../../api/time.js';

export const KUBELET_VERSION_BASE = 'v1.32.0';

export interface NodeParams {
  nodeName: string;
  nodeIp: string;
  kubeletPort: number;
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  maxPods: number;
}

/** What changes between status updates. */
export interface NodeState {
  conditions: readonly ConditionDecision[];
  /** Size of the filesystem holding the data dir, when it could be read. */
  ephemeralStorageBytes: number | undefined;
}

function withTimes(prev: readonly NodeCondition[] | undefined, d: ConditionDecision, now: number): NodeCondition {
  const old = prev?.find((c) => c.type === d.type);
  const t = kubeTime(now);
  return { ...d, lastHeartbeatTime: t, lastTransitionTime: old && old.status === d.status && old.lastTransitionTime ? old.lastTransitionTime : t };
}

export function nodeLabels(p: NodeParams, facts: HostFacts): Record<string, string> {
  return {
    'kubernetes.io/hostname': p.nodeName,
    'kubernetes.io/os': facts.operatingSystem,
    'kubernetes.io/arch': facts.architecture,
    'beta.kubernetes.io/os': facts.operatingSystem,
    'beta.kubernetes.io/arch': facts.architecture,
  };
}

/** Bytes as the kubelet writes them: in Ki when whole Ki, else plain. */
function bytes(n: number): string {
  return n % 1024 === 0 ? `${n / 1024}Ki` : String(n);
}

function milliCpu(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

export function capacityAndAllocatable(p: NodeParams, facts: HostFacts, ephemeralStorageBytes: number | undefined, reserved: SystemReserved): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memory = Math.floor(facts.memoryBytes / 1024) * 1024;
  const capacity: Record<string, string> = { cpu: milliCpu(facts.cpus * 1000), memory: bytes(memory), pods: String(p.maxPods) };
  const allocatable: Record<string, string> = {
    cpu: milliCpu(Math.max(0, facts.cpus * 1000 - reserved.milliCpu)),
    memory: bytes(Math.max(0, memory - reserved.memory)),
    pods: String(p.maxPods),
  };
  if (ephemeralStorageBytes !== undefined) {
    capacity['ephemeral-storage'] = bytes(ephemeralStorageBytes);
    allocatable['ephemeral-storage'] = bytes(Math.max(0, ephemeralStorageBytes - reserved.ephemeralStorage));
  }
  return { capacity, allocatable };
}

export function nodeStatus(p: NodeParams, facts: HostFacts, state: NodeState, reserved: SystemReserved, prev: NodeStatus | undefined, now: number): NodeStatus {
  return {
    ...capacityAndAllocatable(p, facts, state.ephemeralStorageBytes, reserved),
    addresses: [{ type: 'InternalIP', address: p.nodeIp }, { type: 'Hostname', address: p.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: p.kubeletPort } },
    nodeInfo: {
      machineID: facts.machineID, systemUUID: facts.systemUUID, bootID: facts.bootID,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: `${p.runtimeName}://${p.runtimeVersion}`,
      kubeletVersion: `${KUBELET_VERSION_BASE}+trireme.${p.version}`,
      kubeProxyVersion: '',
      operatingSystem: facts.operatingSystem,
      architecture: facts.architecture,
    },
    conditions: state.conditions.map((d) => withTimes(prev?.conditions, d, now)),
  };
}

/** The Node to create on first registration. */
export function newNode(p: NodeParams, facts: HostFacts, state: NodeState, reserved: SystemReserved, now: number): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: p.nodeName, labels: nodeLabels(p, facts) }, spec: {}, status: nodeStatus(p, facts, state, reserved, undefined, now) };
}

/** Whether a status differs from the last one sent in anything but heartbeat times. */
export function statusChanged(a: NodeStatus | undefined, b: NodeStatus): boolean {
  const strip = (s: NodeStatus | undefined): string => JSON.stringify({ ...s, conditions: s?.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
  return strip(a) !== strip(b);
}
