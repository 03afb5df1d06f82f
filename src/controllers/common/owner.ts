// Owner references (pure): which object controls another, and the reference a controller
// puts on what it creates. Guarantees: at most one reference is the controller (the first
// with `controller: true`, as Kubernetes' GetControllerOf). Does not: talk to the API.
import type { KubeObject } from '../../api/object.js';
import type { OwnerReference } from './types.js';

export function ownerReferences(obj: KubeObject): OwnerReference[] {
  return obj.metadata?.ownerReferences ?? [];
}

/** The controller reference of an object, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return ownerReferences(obj).find((r) => r.controller === true);
}

/** Whether `obj` is controlled by the object with this uid. */
export function isControlledBy(obj: KubeObject, ownerUid: string | undefined): boolean {
  return ownerUid !== undefined && controllerOf(obj)?.uid === ownerUid;
}

/** The reference a controller sets on objects it creates or adopts. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion, kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The owner references with this uid removed (release, orphaning). */
export function withoutOwner(refs: readonly OwnerReference[], uid: string): OwnerReference[] {
  return refs.filter((r) => r.uid !== uid);
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp);
}
