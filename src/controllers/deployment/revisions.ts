// Revision bookkeeping on a Deployment's ReplicaSets (pure), what `kubectl rollout
// history|undo` reads. Guarantees: revisions are integers in `deployment.kubernetes.io/revision`;
// the new ReplicaSet gets max(old)+1 when it is not already the newest, and a set that is
// re-used (rollout undo) keeps its former numbers in `revision-history`; Deployment
// annotations are copied to the new set (except kubectl's last-applied and our own
// bookkeeping), so `kubernetes.io/change-cause` shows in the history; `desired-replicas` and
// `max-replicas` record the size each set was made for. Does not: write anything.
import type { KubeObject } from '../../api/object.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const NOT_COPIED = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS]);

export function revisionOf(obj: KubeObject | undefined): number {
  const v = Number(obj?.metadata?.annotations?.[REVISION] ?? 0);
  return Number.isInteger(v) && v > 0 ? v : 0;
}

export function maxRevision(sets: readonly KubeObject[]): number {
  return sets.reduce((m, s) => Math.max(m, revisionOf(s)), 0);
}

/**
 * The annotations the new ReplicaSet should carry. `oldMax` is the highest revision among the
 * other (old) sets; returns undefined-free map. Equal to the input when nothing changes.
 */
export function newReplicaSetAnnotations(
  deploymentAnnotations: Record<string, string> | undefined,
  current: Record<string, string> | undefined,
  oldMax: number,
  sizes: { desired: number; max: number },
): Record<string, string> {
  const out: Record<string, string> = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(deploymentAnnotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  const own = Number(out[REVISION] ?? 0) || 0;
  if (own <= oldMax) {
    const next = oldMax + 1;
    if (own > 0) {
      const hist = out[REVISION_HISTORY] ? out[REVISION_HISTORY].split(',') : [];
      hist.push(String(own));
      out[REVISION_HISTORY] = hist.join(',');
    }
    out[REVISION] = String(next);
  }
  out[DESIRED_REPLICAS] = String(sizes.desired);
  out[MAX_REPLICAS] = String(sizes.max);
  return out;
}

/** Old ReplicaSets to delete: zero-replica sets beyond the history limit, oldest revision first. */
export function setsToPrune<T extends KubeObject & { spec?: { replicas?: number }; status?: { replicas?: number } }>(
  olds: readonly T[], limit: number,
): T[] {
  const idle = olds.filter((s) => (s.spec?.replicas ?? 0) === 0 && (s.status?.replicas ?? 0) === 0 && !s.metadata?.deletionTimestamp);
  const excess = idle.length - Math.max(0, limit);
  if (excess <= 0) return [];
  return [...idle].sort((a, b) => revisionOf(a) - revisionOf(b) || (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '')).slice(0, excess);
}
