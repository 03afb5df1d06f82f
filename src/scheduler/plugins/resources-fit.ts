// Filter: the pod's requests fit in the node's allocatable minus what the pods already
// counted against the node (bound and assumed) request — cpu, memory, pod count, and any
// other requested scalar resource (ephemeral-storage, extended resources).
// Guarantees: pure; returns every shortfall (Kubernetes counts each in the summary), or
// null. A resource the pod does not request never rejects, even on an overcommitted node.
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

export const REASON_TOO_MANY_PODS = 'Too many pods';

export function filterResourcesFit(pod: PodInfo, node: NodeInfo): string[] | null {
  const req = pod.requests;
  const alloc = node.allocatable;
  const used = node.requested;
  let reasons: string[] | null = null;
  if (used.pods + 1 > alloc.pods) (reasons ??= []).push(REASON_TOO_MANY_PODS);
  if (req.milliCpu > 0 && used.milliCpu + req.milliCpu > alloc.milliCpu) (reasons ??= []).push('Insufficient cpu');
  if (req.memory > 0 && used.memory + req.memory > alloc.memory) (reasons ??= []).push('Insufficient memory');
  if (req.scalar) {
    for (const [name, v] of req.scalar) {
      if (v > 0 && (used.scalar?.get(name) ?? 0) + v > (alloc.scalar?.get(name) ?? 0)) (reasons ??= []).push(`Insufficient ${name}`);
    }
  }
  return reasons;
}
