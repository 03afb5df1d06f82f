// Score: least allocated — nodes with more free cpu and memory (after placing the pod)
// score higher. Uses the "non-zero" requests so that pods declaring nothing still spread.
// Guarantees: pure; 0–100, the mean of the cpu and memory free fractions; a node without
// allocatable for a resource scores 0 on it.
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

function free(requested: number, allocatable: number): number {
  if (allocatable <= 0 || requested > allocatable) return 0;
  return ((allocatable - requested) * 100) / allocatable;
}

export function scoreLeastAllocated(pod: PodInfo, node: NodeInfo): number {
  const cpu = free(node.nonZeroRequested.milliCpu + pod.nonZeroRequests.milliCpu, node.allocatable.milliCpu);
  const mem = free(node.nonZeroRequested.memory + pod.nonZeroRequests.memory, node.allocatable.memory);
  return (cpu + mem) / 2;
}
