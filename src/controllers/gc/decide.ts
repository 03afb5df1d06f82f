// The garbage collector's decisions (pure), as Kubernetes' attemptToDeleteItem and
// processDeletingDependents. For a dependent, given what is known about each owner:
// every owner gone → delete it (background); some gone → drop the dangling references;
// every remaining owner deleting in the foreground → delete it too, in the foreground when a
// blocking reference points at such an owner. For an owner being deleted: `orphan` → strip its
// references from the dependents, then the finalizer; `foregroundDeletion` → delete the
// dependents and drop the finalizer once no dependent with blockOwnerDeletion is left.
// Does not: look anything up (owner state comes in; absence must be confirmed by the caller).
import type { KubeObject } from '../../api/object.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../api/finalizers.js';
import type { OwnerReference } from '../common/types.js';

/** present: exists with the referenced uid; absent: gone (or a different uid); deleting: foreground deletion pending; unknown: cannot tell. */
export type OwnerState = 'present' | 'absent' | 'deletingForeground' | 'unknown';

export type DependentAction =
  | { action: 'none' }
  | { action: 'delete'; propagation: 'Background' | 'Foreground' }
  | { action: 'removeRefs'; uids: string[] };

export function decideDependent(refs: readonly { ref: OwnerReference; state: OwnerState }[]): DependentAction {
  if (refs.length === 0) return { action: 'none' };
  if (refs.some((r) => r.state === 'unknown')) return { action: 'none' };
  const absent = refs.filter((r) => r.state === 'absent');
  const present = refs.filter((r) => r.state === 'present');
  const waiting = refs.filter((r) => r.state === 'deletingForeground');
  if (absent.length === refs.length) return { action: 'delete', propagation: 'Background' };
  if (present.length > 0) {
    return absent.length > 0 ? { action: 'removeRefs', uids: absent.map((r) => r.ref.uid) } : { action: 'none' };
  }
  // Only absent and foreground-deleting owners remain: the dependent goes.
  const blocking = waiting.some((r) => r.ref.blockOwnerDeletion === true);
  return { action: 'delete', propagation: blocking ? 'Foreground' : 'Background' };
}

export function hasFinalizer(obj: KubeObject, f: string): boolean {
  return (obj.metadata?.finalizers ?? []).includes(f);
}

export function isDeletingForeground(obj: KubeObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp) && hasFinalizer(obj, FOREGROUND_FINALIZER);
}

export type OwnerAction =
  | { action: 'none' }
  | { action: 'orphan'; dependents: KubeObject[] }
  | { action: 'deleteDependents'; dependents: KubeObject[] }
  | { action: 'removeFinalizer'; finalizer: string };

/** What to do for an owner whose deletion waits on the GC. `dependents` reference its uid. */
export function decideOwner(owner: KubeObject, dependents: readonly KubeObject[]): OwnerAction {
  if (!owner.metadata?.deletionTimestamp) return { action: 'none' };
  const uid = owner.metadata.uid;
  if (hasFinalizer(owner, ORPHAN_FINALIZER)) {
    return dependents.length > 0 ? { action: 'orphan', dependents: [...dependents] } : { action: 'removeFinalizer', finalizer: ORPHAN_FINALIZER };
  }
  if (hasFinalizer(owner, FOREGROUND_FINALIZER)) {
    const blocking = dependents.filter((d) => (d.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion === true));
    if (blocking.length === 0) return { action: 'removeFinalizer', finalizer: FOREGROUND_FINALIZER };
    const toDelete = dependents.filter((d) => !d.metadata?.deletionTimestamp);
    return toDelete.length > 0 ? { action: 'deleteDependents', dependents: toDelete } : { action: 'none' };
  }
  return { action: 'none' };
}
