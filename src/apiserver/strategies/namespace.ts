// Namespaces (pure): a new namespace is Active; a delete always marks it Terminating (the
// namespace lifecycle loop empties it and then removes the `kubernetes` finalizer from
// spec.finalizers); it is removed only once both metadata.finalizers and spec.finalizers are
// empty. Does not: empty the namespace (namespace-lifecycle.ts does), nor refuse creates in a
// Terminating one (the registry checks that for every namespaced kind).
import type { KubeObject } from '../../api/object.js';
import { kubeTime } from '../../api/time.js';
import { finalizersAfterDelete, readyToRemove, type DeletePlan, type DeleteRequest } from './delete-plan.js';
import { GENERIC } from './generic.js';
import type { Strategy } from './strategy.js';

export function specFinalizers(ns: KubeObject): string[] {
  return ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers) ?? [];
}

export function planNamespaceDelete(current: KubeObject, req: DeleteRequest, now: number): DeletePlan {
  const meta = { ...current.metadata };
  meta.deletionTimestamp ??= kubeTime(now);
  meta.deletionGracePeriodSeconds ??= 0;
  const finalizers = finalizersAfterDelete(current, req);
  if (finalizers.length > 0) meta.finalizers = finalizers;
  return { action: 'mark', reason: 'terminating', object: { ...current, metadata: meta, status: { ...(current.status as object), phase: 'Terminating' } } };
}

export const NAMESPACE: Strategy = {
  ...GENERIC,
  prepareCreate: (obj) => ({ ...obj, status: { phase: 'Active' } }),
  planDelete: planNamespaceDelete,
  readyToRemove: (next) => readyToRemove(next) && specFinalizers(next).length === 0,
};
