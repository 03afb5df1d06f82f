// Resource arithmetic for scheduling: a pod's effective requests and a node's allocatable,
// as plain numbers (cpu in millicores, memory and other scalars in their base unit).
// Guarantees: the effective request follows Kubernetes' rule — the larger of the sum of
// app containers (plus restartable "sidecar" init containers) and the largest regular init
// container (plus the sidecars started before it), plus `spec.overhead`; cpu rounds up to a
// whole millicore like Quantity.MilliValue. Does not: handle pod-level `spec.resources`
// (alpha) or in-place resize status (`status.resize`, allocated resources).
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../api/validation/quantity.js';

/** Amounts by resource. `scalar` holds everything besides cpu/memory/pods (e.g. ephemeral-storage). */
export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
  scalar?: Map<string, number>;
}

/** Requests substituted for a container that declares none, used only for scoring (as kube-scheduler does). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, pods: 0 };
}

function amount(name: string, v: unknown): number {
  const q = parseQuantity(v);
  if (q === undefined || q < 0) return 0;
  return name === 'cpu' ? Math.ceil(Math.round(q * 1e6) / 1e3) : q;
}

/** Adds a resource list (`{cpu: '100m', memory: '1Gi', ...}`) into `into`. */
function addList(into: Resources, list: Record<string, unknown> | undefined, sign = 1): void {
  if (!list) return;
  for (const name in list) {
    const v = amount(name, list[name]) * sign;
    if (name === 'cpu') into.milliCpu += v;
    else if (name === 'memory') into.memory += v;
    else if (name === 'pods') into.pods += v;
    else {
      into.scalar ??= new Map();
      into.scalar.set(name, (into.scalar.get(name) ?? 0) + v);
    }
  }
}

function maxInto(into: Resources, other: Resources): void {
  into.milliCpu = Math.max(into.milliCpu, other.milliCpu);
  into.memory = Math.max(into.memory, other.memory);
  if (other.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of other.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
  }
}

function addInto(into: Resources, other: Resources): void {
  into.milliCpu += other.milliCpu;
  into.memory += other.memory;
  if (other.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of other.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + v);
  }
}

function containerRequests(c: Container): Resources {
  const r = emptyResources();
  addList(r, c.resources?.requests as Record<string, unknown> | undefined);
  return r;
}

/**
 * The pod's effective requests (`pods` is always 1). With `nonZero`, containers without a
 * cpu/memory request count as DEFAULT_MILLI_CPU_REQUEST / DEFAULT_MEMORY_REQUEST.
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const spec = pod.spec;
  const total = emptyResources();
  const withDefaults = (c: Container): Resources => {
    const r = containerRequests(c);
    if (nonZero) {
      const req = c.resources?.requests as Record<string, unknown> | undefined;
      if (req?.cpu === undefined) r.milliCpu = DEFAULT_MILLI_CPU_REQUEST;
      if (req?.memory === undefined) r.memory = DEFAULT_MEMORY_REQUEST;
    }
    return r;
  };
  for (const c of spec?.containers ?? []) addInto(total, withDefaults(c));
  // Init containers run one at a time, each next to the sidecars started before it.
  const sidecars = emptyResources();
  const initPeak = emptyResources();
  for (const c of spec?.initContainers ?? []) {
    const r = withDefaults(c);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, r);
      maxInto(initPeak, sidecars);
    } else {
      const step = emptyResources();
      addInto(step, sidecars);
      addInto(step, r);
      maxInto(initPeak, step);
    }
  }
  addInto(total, sidecars);
  maxInto(total, initPeak);
  addList(total, spec?.overhead as Record<string, unknown> | undefined);
  total.pods = 1;
  return total;
}

/** A node's allocatable (falling back to capacity, as the kubelet reports both). */
export function nodeAllocatable(node: Node): Resources {
  const r = emptyResources();
  addList(r, (node.status?.allocatable ?? node.status?.capacity) as Record<string, unknown> | undefined);
  return r;
}
