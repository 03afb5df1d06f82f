// The garbage collector: deletes objects whose owners are gone and carries out foreground and
// orphan deletion (gc/decide.ts). It watches the kinds that own or are owned here. Keys are
// `<group>/<resource>|<namespace>/<name>`. Guarantees: an owner is judged absent only after a
// live GET confirms it (NotFound or another uid), so a cache that has not yet seen a new owner
// never causes a deletion; writes are CAS PUTs of the cached object (a concurrent change
// retries); an owner in foreground deletion keeps its finalizer while a dependent with
// blockOwnerDeletion exists. Does not: resolve owners of kinds we do not serve (such
// dependents are left alone), nor keep a dependency graph (dependents are found by scanning
// the caches, fine for the sizes we target).
import type { KubeObject } from '../api/object.js';
import { findByKind, type ResourceInfo } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import { objectKey, splitKey } from '../client/keys.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Logger } from '../util/log.js';
import type { Controller } from './common/controller.js';
import { ownerReferences, withoutOwner } from './common/owner.js';
import type { OwnerReference } from './common/types.js';
import { aggregate, ignoreNotFound } from './common/writes.js';
import { decideDependent, decideOwner, isDeletingForeground, type OwnerState } from './gc/decide.js';
import type { ControllerDeps } from './replicaset.js';

/** Kinds that can own or be owned, watched by the collector. */
export const GC_RESOURCES: readonly ResourceInfo[] = [
  resource('apps', 'deployments'), resource('apps', 'replicasets'), resource('apps', 'daemonsets'),
  resource('apps', 'statefulsets'), resource('', 'pods'), resource('', 'configmaps'), resource('', 'secrets'),
  resource('', 'services'), resource('', 'endpoints'), resource('discovery.k8s.io', 'endpointslices'), resource('', 'nodes'),
  // Node heartbeat Leases are owned by their Node.
  resource('coordination.k8s.io', 'leases'),
];

function resKey(res: ResourceInfo): string {
  return `${res.group}/${res.resource}`;
}

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  readonly queue: WorkQueue;
  private readonly informers = new Map<string, { res: ResourceInfo; inf: Informer<KubeObject> }>();

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    for (const res of GC_RESOURCES) {
      const inf = deps.informers.for<KubeObject>(res);
      this.informers.set(resKey(res), { res, inf });
      inf.on({
        add: (o) => this.changed(res, o),
        update: (_old, o) => this.changed(res, o),
        delete: (o) => this.deleted(o),
      });
    }
  }

  private key(res: ResourceInfo, obj: KubeObject): string {
    return `${resKey(res)}|${objectKey(obj)}`;
  }

  private changed(res: ResourceInfo, obj: KubeObject): void {
    const interesting = ownerReferences(obj).length > 0 || (obj.metadata?.deletionTimestamp && (obj.metadata.finalizers ?? []).length > 0);
    if (interesting) this.queue.add(this.key(res, obj));
  }

  /** A deleted object may leave dependents dangling and owners waiting on it. */
  private deleted(obj: KubeObject): void {
    const uid = obj.metadata?.uid;
    for (const { res, inf } of this.informers.values()) {
      for (const o of inf.list()) {
        if (ownerReferences(o).some((r) => r.uid === uid)) this.queue.add(this.key(res, o));
      }
    }
    for (const ref of ownerReferences(obj)) {
      const owner = this.cachedOwner(obj, ref);
      if (owner?.obj && owner.obj.metadata?.deletionTimestamp) this.queue.add(this.key(owner.res, owner.obj));
    }
  }

  enqueueAll(): void {
    for (const { res, inf } of this.informers.values()) for (const o of inf.list()) this.changed(res, o);
  }

  private cachedOwner(dependent: KubeObject, ref: OwnerReference): { res: ResourceInfo; obj: KubeObject | undefined; watched: boolean } | undefined {
    const res = findByKind(ref.apiVersion, ref.kind);
    if (!res) return undefined;
    const ns = res.namespaced ? dependent.metadata?.namespace : undefined;
    const entry = this.informers.get(resKey(res));
    return { res, obj: entry?.inf.get(ns, ref.name), watched: entry !== undefined };
  }

  private async ownerState(dependent: KubeObject, ref: OwnerReference): Promise<OwnerState> {
    const c = this.cachedOwner(dependent, ref);
    if (!c) return 'unknown';
    if (c.res.namespaced && !dependent.metadata?.namespace) return 'unknown'; // invalid reference: leave it
    const judge = (o: KubeObject | undefined): OwnerState => {
      if (!o || o.metadata?.uid !== ref.uid) return 'absent';
      return isDeletingForeground(o) ? 'deletingForeground' : 'present';
    };
    const cached = judge(c.obj);
    if (cached !== 'absent') return cached;
    // Confirm absence with the API: the cache may not have seen a new owner yet.
    const live = await ignoreNotFound(this.deps.client.get(c.res, c.res.namespaced ? dependent.metadata?.namespace : undefined, ref.name));
    return judge(live);
  }

  async reconcile(key: string): Promise<void> {
    const bar = key.indexOf('|');
    const entry = this.informers.get(key.slice(0, bar));
    if (!entry) return;
    const { namespace, name } = splitKey(key.slice(bar + 1));
    const obj = entry.inf.get(namespace, name);
    if (!obj) return;
    const log = this.deps.logger.child({ gc: key });
    await this.asOwner(entry.res, obj, log);
    await this.asDependent(entry.res, obj, log);
  }

  private dependentsOf(obj: KubeObject): { res: ResourceInfo; obj: KubeObject }[] {
    const uid = obj.metadata?.uid;
    const out: { res: ResourceInfo; obj: KubeObject }[] = [];
    for (const { res, inf } of this.informers.values()) {
      for (const o of inf.list(obj.metadata?.namespace)) {
        if (ownerReferences(o).some((r) => r.uid === uid)) out.push({ res, obj: o });
      }
    }
    return out;
  }

  private async asOwner(res: ResourceInfo, obj: KubeObject, log: Logger): Promise<void> {
    if (!obj.metadata?.deletionTimestamp) return;
    const deps = this.dependentsOf(obj);
    const resOf = new Map(deps.map((d) => [d.obj, d.res]));
    const decision = decideOwner(obj, deps.map((d) => d.obj));
    const { client } = this.deps;
    const errors: unknown[] = [];
    const uid = obj.metadata.uid ?? '';
    switch (decision.action) {
      case 'orphan':
        await Promise.all(decision.dependents.map(async (d) => {
          const next = structuredClone(d);
          next.metadata = { ...next.metadata, ownerReferences: withoutOwner(ownerReferences(d), uid) };
          try {
            await ignoreNotFound(client.update(resOf.get(d)!, d.metadata?.namespace, next));
          } catch (e) {
            errors.push(e);
          }
        }));
        log.debug({ count: decision.dependents.length }, 'orphaned dependents');
        break;
      case 'deleteDependents':
        await Promise.all(decision.dependents.map(async (d) => {
          const blocking = ownerReferences(d).some((r) => r.uid === uid && r.blockOwnerDeletion === true);
          try {
            await ignoreNotFound(client.delete(resOf.get(d)!, d.metadata?.namespace, d.metadata?.name ?? '', {
              propagationPolicy: blocking ? 'Foreground' : 'Background', preconditions: { uid: d.metadata?.uid },
            }));
          } catch (e) {
            errors.push(e);
          }
        }));
        break;
      case 'removeFinalizer': {
        const next = structuredClone(obj);
        next.metadata = { ...next.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== decision.finalizer) };
        await ignoreNotFound(client.update(res, obj.metadata.namespace, next));
        log.debug({ finalizer: decision.finalizer }, 'removed finalizer');
        break;
      }
      case 'none':
        break;
    }
    aggregate(errors, `garbage-collect dependents of ${obj.metadata.name ?? ''}`);
  }

  private async asDependent(res: ResourceInfo, obj: KubeObject, log: Logger): Promise<void> {
    const refs = ownerReferences(obj);
    if (refs.length === 0 || obj.metadata?.deletionTimestamp) return;
    const states = await Promise.all(refs.map(async (ref) => ({ ref, state: await this.ownerState(obj, ref) })));
    const decision = decideDependent(states);
    const { client } = this.deps;
    if (decision.action === 'delete') {
      log.debug({ propagation: decision.propagation }, 'deleting dependent');
      await ignoreNotFound(client.delete(res, obj.metadata?.namespace, obj.metadata?.name ?? '', {
        propagationPolicy: decision.propagation, preconditions: { uid: obj.metadata?.uid },
      }));
    } else if (decision.action === 'removeRefs') {
      const drop = new Set(decision.uids);
      const next = structuredClone(obj);
      next.metadata = { ...next.metadata, ownerReferences: refs.filter((r) => !drop.has(r.uid)) };
      await ignoreNotFound(client.update(res, obj.metadata?.namespace, next));
    }
  }
}

