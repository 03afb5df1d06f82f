// Applies the adoption and release decisions of common/claim.ts. Guarantees: each write is
// a PUT of the cached object with only its ownerReferences changed, so it is a
// compare-and-swap on resourceVersion — a concurrent change makes it fail (Conflict) and the
// key is retried rather than clobbering the change; before adopting, the owner is re-read
// from the API so a deleted-and-recreated owner (new uid) adopts nothing (Kubernetes'
// canAdopt check). Returns the adopted objects as written.
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { ApiClient } from '../../client/api-client.js';
import type { Claim } from './claim.js';
import { newControllerRef, ownerReferences, withoutOwner } from './owner.js';
import { aggregate, ignoreNotFound } from './writes.js';

export interface OwnerIdentity {
  res: ResourceInfo;
  apiVersion: string;
  kind: string;
}

export async function applyClaims<T extends KubeObject>(
  client: ApiClient, owner: KubeObject, ownerId: OwnerIdentity, objRes: ResourceInfo, claim: Claim<T>,
): Promise<T[]> {
  const ns = owner.metadata?.namespace;
  const uid = owner.metadata?.uid ?? '';
  const errors: unknown[] = [];
  const adopted: T[] = [];
  if (claim.adopt.length > 0) {
    const fresh = await ignoreNotFound(client.get(ownerId.res, ns, owner.metadata?.name ?? ''));
    if (fresh && fresh.metadata?.uid === uid && !fresh.metadata?.deletionTimestamp) {
      await Promise.all(claim.adopt.map(async (o) => {
        const next = structuredClone(o);
        next.metadata = { ...next.metadata, ownerReferences: [...ownerReferences(o), newControllerRef(owner, ownerId.apiVersion, ownerId.kind)] };
        try {
          const out = await ignoreNotFound(client.update<T>(objRes, ns, next));
          if (out) adopted.push(out);
        } catch (e) {
          errors.push(e);
        }
      }));
    }
  }
  await Promise.all(claim.release.map(async (o) => {
    const next = structuredClone(o);
    next.metadata = { ...next.metadata, ownerReferences: withoutOwner(ownerReferences(o), uid) };
    try {
      await ignoreNotFound(client.update<T>(objRes, ns, next));
    } catch (e) {
      errors.push(e);
    }
  }));
  aggregate(errors, `adopt/release ${objRes.resource} of ${owner.metadata?.name ?? ''}`);
  return adopted;
}
