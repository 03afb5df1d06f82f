// The Node object this agent registers: capacity from the host, addresses, node info, labels,
// conditions and the kubelet endpoint.
// Guarantees: pure given its inputs (host facts are passed in, see hostFacts()); conditions keep
// their lastTransitionTime while unchanged. Does not decide taints or schedulability (users and
// controllers own spec).
import os from 'node:os';
import type { Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import { kubeTime } from '../../api/time.js';

export const KUBELET_VERSION_BASE = 'v1.32.0';

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  kernelVersion: string;
  osImage: string;
  hostname: string;
}

export function hostFacts(): HostFacts {
  return {
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    memoryBytes: os.totalmem(),
    kernelVersion: os.release(),
    osImage: `${os.type()} ${os.release()}`,
    hostname: os.hostname(),
  };
}

export interface NodeParams {
  nodeName: string;
  nodeIp: string;
  kubeletPort: number;
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  maxPods: number;
}

function cond(prev: readonly NodeCondition[] | undefined, type: string, status: 'True' | 'False', reason: string, message: string, now: number): NodeCondition {
  const old = prev?.find((c) => c.type === type);
  const t = kubeTime(now);
  return { type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : t };
}

export function nodeLabels(p: NodeParams): Record<string, string> {
  return {
    'kubernetes.io/hostname': p.nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
  };
}

export function nodeStatus(p: NodeParams, host: HostFacts, prev: NodeStatus | undefined, now: number): NodeStatus {
  const resources = {
    cpu: String(host.cpus),
    memory: `${Math.floor(host.memoryBytes / 1024)}Ki`,
    pods: String(p.maxPods),
  };
  const pc = prev?.conditions;
  return {
    capacity: { ...resources },
    allocatable: { ...resources },
    addresses: [{ type: 'InternalIP', address: p.nodeIp }, { type: 'Hostname', address: p.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: p.kubeletPort } },
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '',
      kernelVersion: host.kernelVersion,
      osImage: host.osImage,
      containerRuntimeVersion: `${p.runtimeName}://${p.runtimeVersion}`,
      kubeletVersion: `${KUBELET_VERSION_BASE}+trireme.${p.version}`,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    conditions: [
      cond(pc, 'MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now),
      cond(pc, 'DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now),
      cond(pc, 'PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now),
      cond(pc, 'Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', now),
    ],
  };
}

/** The Node to create on first registration. */
export function newNode(p: NodeParams, host: HostFacts, now: number): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: p.nodeName, labels: nodeLabels(p) }, spec: {}, status: nodeStatus(p, host, undefined, now) };
}

/** Whether a status differs from the last one sent in anything but heartbeat times. */
export function statusChanged(a: NodeStatus | undefined, b: NodeStatus): boolean {
  const strip = (s: NodeStatus | undefined): string => JSON.stringify({ ...s, conditions: s?.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
  return strip(a) !== strip(b);
}
