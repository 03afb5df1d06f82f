// metrics.k8s.io/v1beta1 objects (NodeMetrics, PodMetrics) built from an agent's usage summary
// (src/api/stats-summary.ts), as metrics-server builds them (pure).
// Guarantees: `usage.cpu` is in nanocores (`123456n`), `usage.memory` in Ki (rounded up);
// `timestamp` is the time of the later sample and `window` the span of the two samples
// (a Go duration such as `5.002s`); metadata carries the node's or pod's name, namespace and
// labels and `creationTimestamp` = now, as metrics-server does. An object whose figures are not
// complete (no CPU rate yet, or a pod with a container missing) is left out rather than shown as
// zero. Does not: fetch anything.
import type { KubeObject } from './object.js';
import type { CpuStats, MemoryStats, NodeStats, PodStats } from './stats-summary.js';
import { kubeTime } from './time.js';

export const METRICS_API_VERSION = 'metrics.k8s.io/v1beta1';

export interface Usage {
  cpu: string;
  memory: string;
}

export function cpuQuantity(nanoCores: number): string {
  return `${Math.max(0, Math.round(nanoCores))}n`;
}

export function memoryQuantity(bytes: number): string {
  return `${Math.max(0, Math.ceil(bytes / 1024))}Ki`;
}

/** A metav1.Duration Go parses, to the millisecond: `5s`, `5.002s`, `250ms` (no minutes: `65s`). */
export function goDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms < 1000) return `${ms}ms`;
  return `${(ms / 1000).toString()}s`;
}

function usage(cpu: CpuStats, memory: MemoryStats): Usage | undefined {
  if (cpu.usageNanoCores === undefined) return undefined;
  return { cpu: cpuQuantity(cpu.usageNanoCores), memory: memoryQuantity(memory.workingSetBytes) };
}

function meta(obj: KubeObject, now: number): Record<string, unknown> {
  const m = obj.metadata ?? {};
  return {
    name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}), creationTimestamp: kubeTime(now),
    ...(m.labels && Object.keys(m.labels).length > 0 ? { labels: m.labels } : {}),
  };
}

export function nodeMetrics(node: KubeObject, stats: NodeStats, now: number): KubeObject | undefined {
  const u = usage(stats.cpu, stats.memory);
  if (!u || stats.cpu.windowSeconds === undefined) return undefined;
  return { apiVersion: METRICS_API_VERSION, kind: 'NodeMetrics', metadata: meta(node, now), timestamp: stats.cpu.time, window: goDuration(stats.cpu.windowSeconds), usage: u } as KubeObject;
}

/** The pod's containers as the API lists them (spec.containers), each of which must have figures. */
export function podMetrics(pod: KubeObject, stats: PodStats, now: number): KubeObject | undefined {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[] };
  const byName = new Map(stats.containers.map((c) => [c.name, c]));
  const containers: { name: string; usage: Usage }[] = [];
  let window: number | undefined;
  let time: string | undefined;
  for (const c of spec.containers ?? []) {
    const s = byName.get(c.name);
    const u = s ? usage(s.cpu, s.memory) : undefined;
    if (!s || !u || s.cpu.windowSeconds === undefined) return undefined;
    containers.push({ name: c.name, usage: u });
    // One sample covers every container of a node: the windows are the same.
    window = s.cpu.windowSeconds;
    time = s.cpu.time;
  }
  if (containers.length === 0 || window === undefined || time === undefined) return undefined;
  return { apiVersion: METRICS_API_VERSION, kind: 'PodMetrics', metadata: meta(pod, now), timestamp: time, window: goDuration(window), containers } as KubeObject;
}
