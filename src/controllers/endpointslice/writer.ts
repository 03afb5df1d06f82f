// Carries out a SlicePlan and guards against a cache that has not yet seen this controller's own
// creations (slices are created with generateName, so planning again from such a cache would
// create the same endpoints twice — Kubernetes' endpointSliceTracker does the same job).
// Guarantees: deletes carry a uid precondition (NotFound counts as done); updates are PUTs of
// the planned object with its resourceVersion (a conflict fails the sync, which is retried, and
// the plan's creations are then not made: they were planned from the same stale view);
// after a create, `stale(key, cached)` is true until the informer holds the created slice, it
// was seen deleted, or 30 s passed. Every write is attempted; failures are aggregated.
// Does not: decide anything (plan.ts does).
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient } from '../../client/api-client.js';
import { resource } from '../../client/resources.js';
import type { Clock } from '../../util/clock.js';
import { aggregate, ignoreNotFound } from '../common/writes.js';
import type { SlicePlan } from './plan.js';

export const ENDPOINTSLICES = resource('discovery.k8s.io', 'endpointslices');
const EXPECTATION_TTL_MS = 30_000;

export type SliceObj = EndpointSlice & KubeObject;

export class SliceWriter {
  /** key → uids of slices created but not yet seen in the cache, and when. */
  private readonly created = new Map<string, { uids: Set<string>; at: number }>();

  constructor(private readonly client: ApiClient, private readonly clock: Clock) {}

  /** Whether the cached slices of `key` may lack this controller's own creations. */
  stale(key: string, cached: readonly SliceObj[]): boolean {
    const e = this.created.get(key);
    if (!e) return false;
    const seen = new Set(cached.map((s) => s.metadata?.uid));
    for (const uid of e.uids) if (seen.has(uid)) e.uids.delete(uid);
    if (e.uids.size === 0 || this.clock.now() - e.at > EXPECTATION_TTL_MS) {
      this.created.delete(key);
      return false;
    }
    return true;
  }

  /** A slice vanished from the cache: no longer expected. */
  observedDeleted(key: string, uid: string | undefined): void {
    if (uid) this.created.get(key)?.uids.delete(uid);
  }

  forget(key: string): void {
    this.created.delete(key);
  }

  async apply(key: string, namespace: string, plan: SlicePlan): Promise<void> {
    const errors: unknown[] = [];
    const run = async (f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
      } catch (e) {
        errors.push(e);
      }
    };
    await Promise.all([
      ...plan.delete.map((s) => run(() => ignoreNotFound(this.client.delete(ENDPOINTSLICES, namespace, s.metadata?.name ?? '', { preconditions: { uid: s.metadata?.uid } })))),
      ...plan.update.map((s) => run(() => this.client.update(ENDPOINTSLICES, namespace, s as SliceObj))),
    ]);
    // A failed update (a conflict: the cache was behind) means the plan's view was stale, so its
    // creations would duplicate endpoints the server already has in that slice: skip them.
    aggregate(errors, `sync endpointslices ${key}`);
    await Promise.all(plan.create.map((s) => run(async () => {
      const made = await this.client.create<SliceObj>(ENDPOINTSLICES, namespace, s as SliceObj);
      const uid = made.metadata?.uid;
      if (!uid) return;
      const e = this.created.get(key) ?? { uids: new Set<string>(), at: this.clock.now() };
      e.uids.add(uid);
      e.at = this.clock.now();
      this.created.set(key, e);
    })));
    aggregate(errors, `sync endpointslices ${key}`);
  }
}
