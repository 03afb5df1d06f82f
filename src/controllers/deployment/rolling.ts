// The arithmetic of a rolling update (pure), as Kubernetes' deployment controller does it.
// Guarantees: maxSurge rounds up and maxUnavailable rounds down against spec.replicas, and
// both zero means maxUnavailable 1 (ResolveFenceposts); the new ReplicaSet never takes the
// total above replicas + maxSurge (NewRSNewReplicas); old ReplicaSets lose unhealthy pods
// first, then available ones only while replicas − maxUnavailable stay available
// (reconcileOldReplicaSets). Does not: read or write objects; the controller feeds it
// spec/status numbers and applies the result.
import { scaledValue } from '../common/intstr.js';

export interface Fenceposts {
  maxSurge: number;
  maxUnavailable: number;
}

export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, replicas: number): Fenceposts {
  const surge = scaledValue(maxSurge, replicas, true, '25%');
  let unavailable = scaledValue(maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: Math.min(unavailable, replicas) };
}

/** spec.replicas the new ReplicaSet may have now. `allReplicas` = sum of spec.replicas of every ReplicaSet. */
export function newReplicaSetReplicas(replicas: number, maxSurge: number, allReplicas: number, newReplicas: number): number {
  const maxTotal = replicas + maxSurge;
  if (allReplicas >= maxTotal) return newReplicas;
  const scaleUp = Math.min(maxTotal - allReplicas, replicas - newReplicas);
  return newReplicas + Math.max(0, scaleUp);
}

export interface RsCounts {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  /** creation time (ms), for oldest-first ordering */
  created: number;
}

/**
 * New spec.replicas of the old ReplicaSets (only those that change), given the new
 * ReplicaSet's counts. Old sets are scaled down oldest first.
 */
export function scaleDownOldReplicaSets(replicas: number, maxUnavailable: number, newRs: RsCounts | undefined, olds: readonly RsCounts[]): Map<string, number> {
  const out = new Map<string, number>();
  const oldTotal = olds.reduce((n, r) => n + r.replicas, 0);
  if (oldTotal === 0) return out;
  const allPods = oldTotal + (newRs?.replicas ?? 0);
  const minAvailable = replicas - maxUnavailable;
  const newUnavailable = newRs ? Math.max(0, newRs.replicas - newRs.available) : 0;
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;

  const sorted = [...olds].sort((a, b) => a.created - b.created || a.name.localeCompare(b.name));
  const current = new Map(sorted.map((r) => [r.name, r.replicas]));
  // 1. Unhealthy pods of old sets cost no availability: remove them first.
  let cleaned = 0;
  for (const r of sorted) {
    if (cleaned >= maxScaledDown) break;
    const have = current.get(r.name) ?? 0;
    if (have === 0) continue;
    const unhealthy = Math.max(0, have - r.available);
    if (unhealthy === 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    current.set(r.name, have - down);
    cleaned += down;
  }
  // 2. Available pods, only as far as minAvailable allows.
  const availableTotal = olds.reduce((n, r) => n + Math.min(r.available, current.get(r.name) ?? 0), 0) + (newRs?.available ?? 0);
  let budget = Math.min(maxScaledDown - cleaned, availableTotal - minAvailable);
  for (const r of sorted) {
    if (budget <= 0) break;
    const have = current.get(r.name) ?? 0;
    if (have === 0) continue;
    const down = Math.min(have, budget);
    current.set(r.name, have - down);
    budget -= down;
  }
  for (const r of sorted) if (current.get(r.name) !== r.replicas) out.set(r.name, current.get(r.name) ?? 0);
  return out;
}

export interface ScaleInput {
  name: string;
  replicas: number;
  /** The deployment size this set was sized for (`max-replicas` annotation), if known. */
  maxReplicasAnnotation?: number;
  created: number;
}

/**
 * Proportional scaling when spec.replicas changes mid-rollout (Kubernetes' scale()): the
 * `allowed − current` difference is spread over the active ReplicaSets in proportion to their
 * size; the rounding leftover goes to the largest (newest on ties when growing, oldest when
 * shrinking). Returns the new spec.replicas of each set.
 */
export function proportionalScale(allowed: number, active: readonly ScaleInput[]): Map<string, number> {
  const current = active.reduce((n, r) => n + r.replicas, 0);
  const toAdd = allowed - current;
  const out = new Map(active.map((r) => [r.name, r.replicas]));
  if (toAdd === 0 || active.length === 0) return out;
  const sorted = [...active].sort((a, b) =>
    b.replicas - a.replicas || (toAdd > 0 ? b.created - a.created : a.created - b.created) || a.name.localeCompare(b.name));
  let added = 0;
  for (const r of sorted) {
    if (r.replicas === 0) continue;
    const base = r.maxReplicasAnnotation && r.maxReplicasAnnotation > 0 ? r.maxReplicasAnnotation : current;
    const fraction = Math.round((r.replicas * allowed) / base) - r.replicas;
    const room = toAdd - added;
    const part = toAdd > 0 ? Math.max(0, Math.min(fraction, room)) : Math.min(0, Math.max(fraction, room));
    out.set(r.name, r.replicas + part);
    added += part;
  }
  const first = sorted[0];
  if (first && added !== toAdd) out.set(first.name, Math.max(0, (out.get(first.name) ?? 0) + toAdd - added));
  return out;
}
