// The shape of a per-kind strategy: the hooks the generic registry calls around its writes.
// Guarantees: the rule hooks (`prepareCreate`, `prepareUpdate`, `planDelete`,
// `readyToRemove`) are pure — they neither read nor write anything and never modify their
// inputs (a changed object is a new one), so they can be table-tested alone. Only the two I/O hooks
// (`reserve`, `afterWrite`) touch the store, and only for what the kind owns outside its
// own object (a Service's ClusterIP and NodePort keys). Does not: hold any state itself (a
// strategy with I/O gets its allocator from the registry that builds it).
import type { KubeObject } from '../../api/object.js';
import type { DeletePlan, DeleteRequest } from './delete-plan.js';

/** What the registry reports to `afterWrite`: the object was removed, or a reserved create was not stored. */
export type AfterWrite = 'removed' | 'createFailed';

export interface Strategy {
  /** Server-owned fields of a new object (status reset, admission defaults), after defaulting. */
  prepareCreate(obj: KubeObject): KubeObject;
  /** Server-owned fields an update keeps (e.g. allocated values the client left out), before defaulting. */
  prepareUpdate(next: KubeObject, current: KubeObject): KubeObject;
  /** What a delete request does to the current object, at `now` (ms since the epoch). */
  planDelete(current: KubeObject, req: DeleteRequest, now: number): DeletePlan;
  /** Whether an updated object marked for deletion is to be removed instead of stored. */
  readyToRemove(next: KubeObject): boolean;
  /** I/O before a create is stored: reserves what the object needs; returns it completed. */
  reserve?(obj: KubeObject, dryRun: boolean): Promise<KubeObject>;
  /** I/O after a write: gives back what `reserve` took once the object is gone or was never stored. */
  afterWrite?(what: AfterWrite, obj: KubeObject): Promise<void>;
}
