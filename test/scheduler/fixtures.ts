// Plain-object builders for scheduler tests: nodes and pods as the API would hold them.
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { ClusterCache } from '../../src/scheduler/cache.js';
import { NodeInfo } from '../../src/scheduler/node-info.js';
import { newPodInfo, type PodInfo } from '../../src/scheduler/pod-info.js';

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  ready?: boolean;
  unschedulable?: boolean;
}

export function node(name: string, o: NodeOpts = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taints ? { taints: o.taints } : {}) },
    status: {
      allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' },
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

export function pod(name: string, spec: Partial<Pod['spec']> & { cpu?: string; memory?: string } = {}, meta: Partial<NonNullable<Pod['metadata']>> = {}): Pod {
  const { cpu, memory, ...rest } = spec;
  const requests: Record<string, string> = {};
  if (cpu) requests.cpu = cpu;
  if (memory) requests.memory = memory;
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...meta },
    spec: {
      containers: [{ name: 'c', image: 'x', ...(cpu || memory ? { resources: { requests } } : {}) }],
      ...rest,
    },
  };
}

export function info(p: Pod): PodInfo {
  return newPodInfo(p);
}

export function nodeInfo(n: Node, ...pods: Pod[]): NodeInfo {
  const ni = new NodeInfo(n);
  for (const p of pods) ni.addPod(newPodInfo({ ...p, spec: { containers: [], ...p.spec, nodeName: n.metadata?.name } }));
  return ni;
}

/** A cache holding `nodes` and the pods, each bound to the node named in its spec. */
export function cacheWith(nodes: Node[], pods: Pod[] = []): ClusterCache {
  const c = new ClusterCache();
  for (const n of nodes) c.setNode(n);
  for (const p of pods) c.setPod(p);
  return c;
}

export function bound(p: Pod, nodeName: string): Pod {
  return { ...p, spec: { containers: [], ...p.spec, nodeName } };
}
