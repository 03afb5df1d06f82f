// The ReplicaSet's decisions (pure): how many pods to create or which to delete, in which
// batches, and which pods go first when scaling down. Guarantees: Kubernetes' ordering of
// ActivePodsWithRanks (unassigned < assigned; Pending < Unknown < Running; not ready <
// ready; lower pod-deletion-cost first; more siblings on the same node first; ready for a
// shorter time first; more restarts first; newer first); at most `burst` pods per sync;
// slow-start batches 1, 2, 4, … Does not: look at expectations or do I/O.
import type { PodObj } from '../common/types.js';
import { creationMs, isPodReady, readySince, restartCount } from '../common/pods.js';

/** Kubernetes' burstReplicas: at most this many creations or deletions per sync. */
export const BURST_REPLICAS = 500;
export const DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

export type ReplicaDiff =
  | { action: 'none' }
  | { action: 'create'; count: number }
  | { action: 'delete'; pods: PodObj[] };

/** What to do so that `active` pods become `desired`. `active` must hold only active owned pods. */
export function replicaDiff(active: readonly PodObj[], desired: number, burst = BURST_REPLICAS): ReplicaDiff {
  const diff = active.length - desired;
  if (diff < 0) return { action: 'create', count: Math.min(-diff, burst) };
  if (diff > 0) return { action: 'delete', pods: podsToDelete(active, Math.min(diff, burst)) };
  return { action: 'none' };
}

/** Sizes of the slow-start batches for `total` creations: 1, 2, 4, … capped by what is left. */
export function slowStartBatches(total: number, initial = 1): number[] {
  const out: number[] = [];
  let left = total;
  let size = Math.min(initial, left);
  while (left > 0) {
    size = Math.min(size, left);
    out.push(size);
    left -= size;
    size *= 2;
  }
  return out;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(p: PodObj): number {
  const v = Number(p.metadata?.annotations?.[DELETION_COST_ANNOTATION] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

/**
 * Negative when `a` should be deleted before `b`. `rank` is how many of the owner's active
 * pods share each pod's node (doubled-up nodes lose pods first).
 */
export function compareForDeletion(a: PodObj, b: PodObj, rank: (p: PodObj) => number): number {
  const aNode = a.spec?.nodeName ? 1 : 0;
  const bNode = b.spec?.nodeName ? 1 : 0;
  if (aNode !== bNode) return aNode - bNode;
  const ap = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const bp = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (ap !== bp) return ap - bp;
  const ar = isPodReady(a) ? 1 : 0;
  const br = isPodReady(b) ? 1 : 0;
  if (ar !== br) return ar - br;
  const ac = deletionCost(a);
  const bc = deletionCost(b);
  if (ac !== bc) return ac - bc;
  const ak = rank(a);
  const bk = rank(b);
  if (ak !== bk) return bk - ak;
  if (ar === 1 && br === 1) {
    const at = readySince(a) ?? 0;
    const bt = readySince(b) ?? 0;
    if (at !== bt) return bt - at; // ready more recently → deleted first
  }
  const rc = restartCount(b) - restartCount(a);
  if (rc !== 0) return rc;
  const ct = creationMs(b) - creationMs(a);
  if (ct !== 0) return ct;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** The `n` pods to delete first, ranked among `pods` by compareForDeletion. */
export function podsToDelete(pods: readonly PodObj[], n: number): PodObj[] {
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (p: PodObj) => (p.spec?.nodeName ? perNode.get(p.spec.nodeName) ?? 0 : 0);
  return [...pods].sort((a, b) => compareForDeletion(a, b, rank)).slice(0, n);
}
