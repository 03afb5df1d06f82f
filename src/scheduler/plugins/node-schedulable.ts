// Filter: the node is Ready and not cordoned (`spec.unschedulable`), unless the pod
// tolerates the matching taint (`node.kubernetes.io/not-ready` / `.../unschedulable`,
// effect NoSchedule) as DaemonSet pods do.
// Guarantees: pure; returns null (fits) or the Kubernetes reason string.
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { toleratesTaint } from './taint-toleration.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const REASON_NOT_READY = 'node(s) were not ready';
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

export function filterNodeSchedulable(pod: PodInfo, node: NodeInfo): string | null {
  if (!node.ready && !toleratesTaint(pod.tolerations, { key: TAINT_NOT_READY, effect: 'NoSchedule' })) return REASON_NOT_READY;
  if (node.unschedulable && !toleratesTaint(pod.tolerations, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' })) return REASON_UNSCHEDULABLE;
  return null;
}
