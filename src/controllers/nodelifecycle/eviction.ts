// Taint-based eviction (pure), Kubernetes' NoExecute taint manager: which pods bound to a node
// must be deleted now, and when to look again. Guarantees: a pod that does not tolerate every
// NoExecute taint is evicted at once; otherwise it goes when the earliest taint's timeAdded plus
// the smallest tolerationSeconds among the tolerations it uses has passed; it stays forever when
// none of those tolerations has tolerationSeconds. Pods already terminating are not evicted again
// but, on an unreachable node, are listed for forced removal once their grace period is over
// (nothing on that node will confirm the deletion). Does not: delete anything, or rate-limit.
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { PodObj } from '../common/types.js';
import { parseKubeTime } from '../../api/time.js';

/** Kubernetes' Toleration.ToleratesTaint. */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  const op = tol.operator ?? 'Equal';
  if (op === 'Exists') return true; // an empty key with Exists matches every key
  if (op !== 'Equal' || !tol.key) return false;
  return (tol.value ?? '') === (taint.value ?? '');
}

export type EvictionReason = 'NotTolerated' | 'TolerationExpired';

export interface Eviction { pod: PodObj; reason: EvictionReason }

export interface EvictionPlan {
  evict: Eviction[];
  /** Terminating pods whose grace period is over on a node that cannot confirm it. */
  forceRemove: PodObj[];
  /** ms until the next pod's deadline, if any pod is waiting. */
  recheckInMs?: number;
}

/**
 * When a taint started counting: its timeAdded, unless this controller saw it appear within the
 * same second — timeAdded has whole seconds, and the sighting then gives the lost fraction
 * (without it pods would go up to 1 s early). A taint without timeAdded counts from the sighting.
 */
export function taintStart(t: Taint, seen: number): number {
  const added = parseKubeTime(t.timeAdded);
  if (added === undefined) return seen;
  return seen >= added && seen < added + 1000 ? seen : added;
}

/**
 * When the pod must go (ms since epoch): -Infinity = now (not tolerated), Infinity = never.
 * `taintSince` gives the controller's first sighting of a taint (see taintStart).
 */
export function evictionDeadline(pod: PodObj, taints: readonly Taint[], taintSince: (t: Taint) => number): number {
  const noExec = taints.filter((t) => t.effect === 'NoExecute');
  if (!noExec.length) return Infinity;
  const tols = pod.spec?.tolerations ?? [];
  const used = new Set<Toleration>();
  for (const t of noExec) {
    const match = tols.filter((tol) => toleratesTaint(tol, t));
    if (!match.length) return -Infinity;
    for (const m of match) used.add(m);
  }
  const secs = [...used].map((t) => t.tolerationSeconds).filter((s): s is number => s !== undefined && s !== null);
  if (!secs.length) return Infinity;
  const since = Math.min(...noExec.map((t) => taintStart(t, taintSince(t))));
  return since + Math.max(0, Math.min(...secs)) * 1000;
}

export function planEvictions(pods: readonly PodObj[], taints: readonly Taint[], now: number, opts: { unreachable: boolean; taintSince: (t: Taint) => number }): EvictionPlan {
  const plan: EvictionPlan = { evict: [], forceRemove: [] };
  let next = Infinity;
  for (const pod of pods) {
    const deleting = parseKubeTime(pod.metadata?.deletionTimestamp);
    if (deleting !== undefined) {
      if (!opts.unreachable) continue;
      if (deleting <= now) plan.forceRemove.push(pod);
      else next = Math.min(next, deleting);
      continue;
    }
    const deadline = evictionDeadline(pod, taints, opts.taintSince);
    if (deadline === -Infinity) plan.evict.push({ pod, reason: 'NotTolerated' });
    else if (deadline <= now) plan.evict.push({ pod, reason: 'TolerationExpired' });
    else next = Math.min(next, deadline);
  }
  if (next !== Infinity) plan.recheckInMs = next - now;
  return plan;
}
