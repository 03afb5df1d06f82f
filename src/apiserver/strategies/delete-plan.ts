// The delete plan (pure): what a DELETE does to an object — remove it now, or store it marked
// for deletion (`deletionTimestamp`) because something must happen first. This file holds the
// rule every kind starts from; pods (graceful deletion) and namespaces (Terminating) refine
// it in their strategies. Guarantees: a plan depends only on the object, the request and
// `now`; the input object is never modified; a propagation policy of Orphan or Foreground
// adds its finalizer (once) and so always marks; an object already marked keeps its first
// deletionTimestamp. Does not: check preconditions (the registry does, before planning), nor
// wait for anything.
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../api/finalizers.js';
import type { KubeObject } from '../../api/object.js';
import { kubeTime } from '../../api/time.js';

/** The parts of a delete request a plan depends on. */
export interface DeleteRequest {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

/** Why an object is kept, marked, instead of removed. */
export type MarkReason = 'finalizers' | 'graceful' | 'terminating';

export type DeletePlan =
  | { action: 'remove' }
  | { action: 'mark'; reason: MarkReason; object: KubeObject };

/** The object's finalizers plus the one its propagation policy asks for. */
export function finalizersAfterDelete(current: KubeObject, req: DeleteRequest): string[] {
  const out = [...(current.metadata?.finalizers ?? [])];
  const wanted = req.propagationPolicy === 'Orphan' ? ORPHAN_FINALIZER : req.propagationPolicy === 'Foreground' ? FOREGROUND_FINALIZER : undefined;
  if (wanted && !out.includes(wanted)) out.push(wanted);
  return out;
}

/** Every kind's rule: remove unless finalizers remain; then mark (at once, grace 0) and wait for them. */
export function planDelete(current: KubeObject, req: DeleteRequest, now: number): DeletePlan {
  const finalizers = finalizersAfterDelete(current, req);
  if (finalizers.length === 0) return { action: 'remove' };
  const meta = { ...current.metadata };
  meta.deletionTimestamp ??= kubeTime(now);
  meta.deletionGracePeriodSeconds ??= 0;
  meta.finalizers = finalizers;
  return { action: 'mark', reason: 'finalizers', object: { ...current, metadata: meta } };
}

/**
 * Every kind's rule for an update of a marked object: once its last finalizer is gone it is
 * removed rather than stored, unless it is in a graceful deletion (a grace period above 0:
 * a pod whose node has not confirmed yet), which only a delete ends, as in Kubernetes.
 */
export function readyToRemove(next: KubeObject): boolean {
  const meta = next.metadata;
  return Boolean(meta?.deletionTimestamp) && (meta?.finalizers ?? []).length === 0 && (meta?.deletionGracePeriodSeconds ?? 0) === 0;
}
