// The generic registry: create, read, update, patch, delete, list and watch for every resource
// in src/api/resources.ts, over the Store (writes) and one WatchCache per resource (lists and
// watches). Per-kind behaviour comes from src/api (defaults, validation, patch metadata) and
// the per-kind strategies (./strategies/): this file names no kind except Namespace, whose
// state every namespaced create checks.
//
// Guarantees: a write is acknowledged only after the store committed it; updates are
// compare-and-swap on the revision read, so two writers never both win; a fenced write
// (WriteOptions.fence) is applied only while its Lease is unchanged since the fence was last
// verified, atomically in the store (the store write's guard); bad input throws a
// TriremeError and stores nothing. Lists (resourceVersion semantics as Kubernetes defines them):
// - unset: the most recent state. On a shared store (etcd) the registry reads the store's
//   current revision (a quorum read); when the watch cache is behind it, asks the store whether
//   anything under the cache's prefix changed since the cache's revision (Store.changesSince,
//   one more quorum read: an idle prefix is then current at once), else waits up to
//   `consistentWaitMs` for the cache to reach it (events, or etcd progress notifications), and
//   otherwise lists the store itself; so the answer is never older than a write acknowledged
//   by any server. On
//   a store this process alone writes (SQLite), it waits for this server's own latest write.
//   When the store cannot confirm its revision (no quorum), the answer comes from the cache
//   and carries `warning` (STALE_READ_WARNING).
// - "0": whatever the cache holds (after this server's own writes), never waiting for the store.
// - N: not older than N (waits for the cache to reach N; 504 Timeout after 5 s).
// List paging is a snapshot: every page after the first shows the state at the first page's
// revision (WatchCache.listAt, after the cache reached it), as long as the cache's event history
// reaches back to it; after that the continue token is `Gone` (410).
// Does not guarantee: consistent watches from "now" (a watch without resourceVersion starts
// from this server's cache, as in Kubernetes).
import type { KubeObject } from '../api/object.js';
import { RESOURCES, storeKey, storePrefix, groupVersion, type ResourceInfo } from '../api/resources.js';
import { applyDefaults } from '../api/defaults/index.js';
import { validateCreate, validateUpdate, invalidError } from '../api/validation/index.js';
import { applyPatch } from '../api/patch/apply-patch.js';
import { TriremeError, isTriremeError } from '../errors.js';
import { isGuardFailure, type KeyValue, type Store, type WriteGuard, type WriteOpts } from '../storage/store.js';
import { isFencedError } from '../api/fence.js';
import { WatchCache, type CacheEvent, type CachedItem } from '../storage/watch-cache.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { generateName, jsonEqual, newUid, specPart } from './object-meta.js';
import { kubeTime } from '../api/time.js';
import { mergeForUpdate, strategyTable, tracksGeneration, type DefaultTolerations, type DeleteRequest, type Strategy } from './strategies/index.js';
import { qualifiedName } from './status.js';
import { ServiceIpAllocator, type ServiceRanges } from './service-ips.js';

export interface WriteOptions {
  dryRun?: boolean;
  /** The request's fence (fence-check.ts): every store write carries its guard. */
  fence?: WriteFence;
  /** Admission of the object about to be written (after defaults; `current` is the stored object of an update): throws to refuse. */
  admit?: (next: KubeObject, current: KubeObject | undefined) => void;
}

/**
 * A fence resolved for one request. `guard()` is the Lease key at the revision last verified;
 * after a write failed that guard, `recheck()` reads the Lease again and either moves the guard
 * to the Lease's new revision (still the same holder and term) or throws the fenced 409.
 */
export interface WriteFence {
  guard(): WriteGuard;
  recheck(): Promise<void>;
}

export interface DeleteOptions extends WriteOptions, DeleteRequest {
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListOptions {
  /** Only objects these predicates accept. */
  filter?: (obj: KubeObject) => boolean;
  limit?: number;
  continueToken?: string;
  /** Minimum revision the answer must reflect ('' or undefined: this server's latest write). */
  resourceVersion?: string;
}

export interface ListAnswer {
  items: KubeObject[];
  revision: number;
  continueToken?: string;
  remainingItemCount?: number;
  /** Set when the answer may be stale (STALE_READ_WARNING); the handler sends it as a Warning. */
  warning?: string;
}

export interface WatchOptions {
  /** Events strictly after this revision; undefined or 0: synthetic ADDED for the current state first. */
  resourceVersion?: number;
  sendInitialEvents?: boolean;
  filter?: (obj: KubeObject) => boolean;
}

/**
 * Which endpoint writes: the main resource (undefined), `/status`, or a server-side
 * subresource (`binding` sets a pod's node and condition; `finalize` a namespace's finalizers).
 */
export type UpdateSubresource = 'status' | 'binding' | 'finalize';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface RegistryOptions {
  clock?: Clock;
  logger?: Logger;
  /** Events each resource's watch cache keeps for watches that resume. */
  watchHistory?: number;
  /** How long a consistent list waits for the watch cache before listing the store (default 1 s). */
  consistentWaitMs?: number;
  /** Where ClusterIPs and NodePorts come from (defaults: 127.10.0.0/16, 30000-32767). */
  serviceRanges?: ServiceRanges;
  /** tolerationSeconds pod admission adds for not-ready / unreachable nodes (default strategies/pod.ts). */
  defaultTolerations?: DefaultTolerations;
}

/** The Warning (299) of a list answered from the cache because the store has no quorum. */
export const STALE_READ_WARNING = 'the store has no quorum: this answer may be stale';

/** How lists without a resourceVersion were served on a shared store (for tests and metrics). */
export interface ConsistentReadCounts {
  /** The cache had reached the store's revision already. */
  fromCache: number;
  /** The cache was behind, and the store confirmed nothing under its prefix changed since (Store.changesSince). */
  unchanged: number;
  /** The cache reached it within the wait (an event or a progress notification). */
  afterWait: number;
  /** The wait ran out: the list came from the store. */
  fromStore: number;
  /** The store could not confirm its revision: the cache answered, marked stale. */
  stale: number;
}

/** Retries of a read-modify-write that lost a compare-and-swap to a concurrent writer. */
const CAS_RETRIES = 8;
/** Retries of a fenced write whose Lease was renewed (still ours) between check and write. */
const FENCE_RETRIES = 5;
/** Default wait of a consistent list for the cache (etcd's progress interval should be well below). */
const CONSISTENT_WAIT_MS = 1_000;
/** Bound on the quorum read of the current revision; past it the store counts as without quorum. */
const CURRENT_REVISION_TIMEOUT_MS = 2_000;
/** Wait for the cache to reach a resourceVersion the client named (or a continue token's). */
const RV_WAIT_MS = 5_000;

type Snapshot = { items: CachedItem<KubeObject>[]; revision: number };

export class Registry {
  readonly clock: Clock;
  private readonly log: Logger;
  private readonly caches = new Map<string, WatchCache<KubeObject>>();
  /** Newest revision this server wrote per store prefix: lists wait for their cache to reach it. */
  private readonly written = new Map<string, number>();
  /** The per-kind hooks; the Service strategy allocates through this registry's allocator. */
  private readonly strategy: (kind: string) => Strategy;
  private readonly consistentWaitMs: number;
  readonly consistentReads: ConsistentReadCounts = { fromCache: 0, unchanged: 0, afterWait: 0, fromStore: 0, stale: 0 };

  constructor(readonly store: Store, opts: RegistryOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.consistentWaitMs = opts.consistentWaitMs ?? CONSISTENT_WAIT_MS;
    for (const info of RESOURCES) {
      const prefix = storePrefix(info);
      if (!this.caches.has(prefix)) {
        this.caches.set(prefix, new WatchCache<KubeObject>(store, prefix, decodeObject, { historySize: opts.watchHistory, logger: this.log }));
      }
    }
    this.strategy = strategyTable({ ips: new ServiceIpAllocator(store, opts.serviceRanges), ...(opts.defaultTolerations ? { tolerations: opts.defaultTolerations } : {}) });
  }

  async start(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => c.start()));
  }

  stop(): void {
    for (const c of this.caches.values()) c.stop();
  }

  private cache(info: ResourceInfo): WatchCache<KubeObject> {
    return this.caches.get(storePrefix(info))!;
  }

  private noteWrite(info: ResourceInfo, revision: number): void {
    const p = storePrefix(info);
    if ((this.written.get(p) ?? 0) < revision) this.written.set(p, revision);
  }

  // ---- reads ----------------------------------------------------------------------------

  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.store.get(storeKey(info, namespace, name));
    if (!kv) throw notFound(info, name);
    return withTypeMeta(info, decodeObject(kv));
  }

  async list(info: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<ListAnswer> {
    const cache = this.cache(info);
    const rv = opts.resourceVersion;
    const ownWrite = this.written.get(storePrefix(info)) ?? 0;
    const wanted = rv && rv !== '0' ? Number(rv) : ownWrite;
    // Revisions are etcd's int64s, and every one we hand out is a safe integer: anything else
    // (a fraction, a negative, 1e20) names no state and would only wait out a timeout.
    if (!Number.isSafeInteger(wanted) || wanted < 0) throw new TriremeError('BadRequest', `invalid resourceVersion: ${rv}`);
    const prefix = storePrefix(info, namespace);
    let startAfter: string | undefined;
    let snap: Snapshot;
    let warning: string | undefined;
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken, prefix);
      startAfter = token.startAfter;
      // The first page may have come from another server (or the store): reach its revision first.
      const need = Math.max(wanted, token.revision);
      if (need > cache.revision) await cache.waitFor(need, RV_WAIT_MS);
      // Later pages show the state as of the first page, as Kubernetes serves them from etcd.
      try {
        snap = cache.listAt(token.revision, prefix);
      } catch (e) {
        if (isTriremeError(e, 'Gone')) throw new TriremeError('Gone', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
        throw e;
      }
    } else if (!rv && this.store.shared) {
      ({ snap, warning } = await this.mostRecent(cache, prefix, ownWrite));
    } else {
      if (wanted > cache.revision) await cache.waitFor(wanted, RV_WAIT_MS);
      snap = cache.list(prefix);
    }
    const out: KubeObject[] = [];
    let lastKey: string | undefined;
    let remaining = 0;
    let full = false;
    for (const item of snap.items) {
      if (startAfter !== undefined && item.key <= startAfter) continue;
      if (opts.filter && !opts.filter(item.value)) continue;
      if (full) {
        remaining++;
        continue;
      }
      out.push(withTypeMeta(info, item.value));
      lastKey = item.key;
      if (opts.limit && out.length >= opts.limit) full = true;
    }
    const answer: ListAnswer = { items: out, revision: snap.revision, ...(warning ? { warning } : {}) };
    if (full && remaining > 0 && lastKey !== undefined) {
      answer.continueToken = encodeContinue(lastKey, prefix, snap.revision);
      // Kubernetes reports remainingItemCount only for unfiltered lists.
      if (!opts.filter) answer.remainingItemCount = remaining;
    }
    return answer;
  }

  /**
   * The state under `prefix` not older than any acknowledged write on a shared store: the cache
   * once it has reached the store's current revision, else the store's own list.
   */
  private async mostRecent(cache: WatchCache<KubeObject>, prefix: string, ownWrite: number): Promise<{ snap: Snapshot; warning?: string }> {
    const stale = async () => {
      this.consistentReads.stale++;
      if (ownWrite > cache.revision) await cache.waitFor(ownWrite, RV_WAIT_MS);
      return { snap: cache.list(prefix), warning: STALE_READ_WARNING };
    };
    const current = await this.confirmedRevision();
    if (current === undefined) return stale();
    if (cache.revision >= current) {
      this.consistentReads.fromCache++;
      return { snap: cache.list(prefix) };
    }
    // Behind: an idle prefix, or events in flight. Ask the store whether anything under the
    // prefix changed since the cache's revision (one quorum read); if not, the cache is current.
    if (this.store.changesSince) {
      const from = cache.revision;
      const held = cache.size;
      let probe;
      try {
        probe = await this.store.changesSince(cache.prefix, from);
      } catch (e) {
        if (isTriremeError(e, 'ServiceUnavailable')) return stale();
        throw e;
      }
      if (!probe.writtenAfter && probe.count === held && cache.confirmCurrent(from, probe.revision)) {
        this.consistentReads.unchanged++;
        return { snap: cache.list(prefix) };
      }
    }
    try {
      await cache.waitFor(current, this.consistentWaitMs);
      this.consistentReads.afterWait++;
      return { snap: cache.list(prefix) };
    } catch (e) {
      if (!isTriremeError(e, 'Timeout')) throw e;
    }
    // The cache is behind (an idle prefix without progress notifications, or a slow watch):
    // the store's list is at a revision >= current.
    let res;
    try {
      res = await this.store.list(prefix);
    } catch (e) {
      if (isTriremeError(e, 'ServiceUnavailable')) return stale();
      throw e;
    }
    this.consistentReads.fromStore++;
    const items: CachedItem<KubeObject>[] = [];
    for (const kv of res.items) {
      try {
        items.push({ key: kv.key, value: decodeObject(kv), createRevision: kv.createRevision, modRevision: kv.modRevision });
      } catch (err) {
        this.log.error({ err, key: kv.key }, 'cannot decode stored value; leaving it out'); // as the cache does
      }
    }
    return { snap: { items, revision: res.revision } };
  }

  /** The store's current revision, or undefined when it cannot confirm one in time (no quorum). */
  private async confirmedRevision(): Promise<number | undefined> {
    let timer: Timer | undefined;
    const read = this.store.currentRevision();
    const deadline = new Promise<undefined>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(undefined), CURRENT_REVISION_TIMEOUT_MS);
    });
    try {
      const revision = await Promise.race([read, deadline]);
      if (revision === undefined) {
        read.catch(() => undefined); // its outcome no longer matters; the warning below says why
        this.log.debug({ timeoutMs: CURRENT_REVISION_TIMEOUT_MS }, 'store did not confirm its current revision in time; answering from the cache');
      }
      return revision;
    } catch (e) {
      if (!isTriremeError(e, 'ServiceUnavailable') && !isTriremeError(e, 'NoQuorum')) throw e;
      this.log.debug({ err: e }, 'store cannot confirm its current revision; answering from the cache');
      return undefined;
    } finally {
      if (timer) this.clock.clearTimeout(timer);
    }
  }

  watch(info: ResourceInfo, namespace: string | undefined, opts: WatchOptions, send: (type: WatchEventType, obj: KubeObject) => void, initialEnd?: (revision: number) => void): { cancel(): void } {
    const cache = this.cache(info);
    const prefix = storePrefix(info, namespace);
    const filter = opts.filter ?? (() => true);
    let from = opts.resourceVersion ?? 0;
    if (from === 0 || opts.sendInitialEvents) {
      const snap = cache.list(prefix);
      for (const item of snap.items) if (filter(item.value)) send('ADDED', withTypeMeta(info, item.value));
      if (from === 0) from = snap.revision;
      initialEnd?.(snap.revision);
    }
    return cache.watch(from, prefix, (ev: CacheEvent<KubeObject>) => {
      const now = ev.type !== 'DELETED' && filter(ev.item.value);
      const before = ev.prev !== undefined && filter(ev.prev.value);
      let obj = withTypeMeta(info, ev.item.value);
      // A deleted object is reported at the revision of its deletion, so a watch resumed from it
      // does not see the deletion again.
      if (ev.type === 'DELETED') obj = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(ev.revision) } };
      // A change that moves an object into or out of the selection is ADDED or DELETED for this watcher.
      if (ev.type === 'DELETED') { if (filter(ev.item.value)) send('DELETED', obj); }
      else if (ev.type === 'ADDED') { if (now) send('ADDED', obj); }
      else if (now && before) send('MODIFIED', obj);
      else if (now) send('ADDED', obj);
      else if (before) send('DELETED', obj);
    });
  }

  /** The newest revision the cache of this resource has applied (for bookmarks). */
  cacheRevision(info: ResourceInfo): number {
    return this.cache(info).revision;
  }

  // ---- writes ---------------------------------------------------------------------------

  async create(info: ResourceInfo, namespace: string | undefined, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const strategy = this.strategy(info.kind);
    let obj = this.admitCreate(info, namespace, input);
    opts.admit?.(obj, undefined);
    if (info.namespaced) await this.checkNamespaceOpen(namespace!);
    if (strategy.reserve) obj = await strategy.reserve(obj, opts.dryRun ?? false);
    const name = obj.metadata!.name!;
    if (opts.dryRun) {
      if (await this.store.get(storeKey(info, namespace, name))) throw alreadyExists(info, name);
      return withTypeMeta(info, obj);
    }
    try {
      const key = storeKey(info, namespace, name);
      const value = encodeObject(obj);
      const kv = await this.fenced(opts.fence, (w) => this.store.create(key, value, w));
      this.noteWrite(info, kv.modRevision);
      return withTypeMeta(info, stamped(obj, kv.modRevision));
    } catch (e) {
      await strategy.afterWrite?.('createFailed', obj);
      if (isTriremeError(e, 'AlreadyExists')) throw alreadyExists(info, name);
      throw e;
    }
  }

  /** Fills server-owned metadata, defaults and validates a new object. Throws on bad input. */
  private admitCreate(info: ResourceInfo, namespace: string | undefined, input: KubeObject): KubeObject {
    checkTypeMeta(info, input);
    const meta = { ...(input.metadata ?? {}) };
    if (info.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw new TriremeError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    if (meta.resourceVersion) throw new TriremeError('BadRequest', 'resourceVersion should not be set on objects to be created');
    meta.uid = newUid();
    meta.creationTimestamp = kubeTime(this.clock.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    if (tracksGeneration(info)) meta.generation = 1;
    else delete meta.generation;
    let obj: KubeObject = { ...input, apiVersion: groupVersion(info), kind: info.kind, metadata: meta };
    obj = applyDefaults(obj);
    obj = this.strategy(info.kind).prepareCreate(obj);
    const causes = validateCreate(obj);
    if (causes.length > 0) throw invalidError(info.kind, meta.name ?? '', causes, info.group);
    return obj;
  }

  private async checkNamespaceOpen(namespace: string): Promise<void> {
    const nsInfo = RESOURCES.find((r) => r.kind === 'Namespace')!;
    const key = storeKey(nsInfo, undefined, namespace);
    // The cache answers the common case without a store read, once it has applied this
    // server's own namespace writes (so a delete through this server is seen at once); a
    // namespace it has not seen yet (created a moment ago) is looked up in the store.
    // Terminating never reverts, so a cached Terminating is final.
    const cache = this.cache(nsInfo);
    const wrote = this.written.get(storePrefix(nsInfo)) ?? 0;
    if (wrote > cache.revision) await cache.waitFor(wrote, 5000);
    let ns = cache.get(key)?.value;
    if (!ns) {
      const kv = await this.store.get(key);
      if (!kv) throw new TriremeError('NotFound', `namespaces "${namespace}" not found`, { context: { name: namespace, kind: 'namespaces' } });
      ns = decodeObject(kv);
    }
    if (ns.metadata?.deletionTimestamp) {
      throw new TriremeError('Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`, { context: { name: namespace, kind: 'namespaces' } });
    }
  }

  /**
   * Replaces an object (PUT). With `metadata.resourceVersion` set the write is a
   * compare-and-swap on it; without, it applies to whatever is current.
   */
  async update(info: ResourceInfo, namespace: string | undefined, name: string, input: KubeObject, opts: WriteOptions & { subresource?: UpdateSubresource } = {}): Promise<KubeObject> {
    checkTypeMeta(info, input);
    if (input.metadata?.name !== undefined && input.metadata.name !== name) {
      throw new TriremeError('BadRequest', `the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (info.namespaced && input.metadata?.namespace && input.metadata.namespace !== namespace) {
      throw new TriremeError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const expected = input.metadata?.resourceVersion;
    return this.readModifyWrite(info, namespace, name, opts, (current) => {
      if (expected && expected !== current.metadata?.resourceVersion) throw conflict(info, name);
      return input;
    });
  }

  /** Applies a patch document; `check` sees the patched object before it is admitted (field validation). */
  async patchChecked(info: ResourceInfo, namespace: string | undefined, name: string, contentType: string, body: string, opts: WriteOptions & { subresource?: UpdateSubresource } = {}, check: (obj: KubeObject) => KubeObject = (o) => o): Promise<KubeObject> {
    return this.readModifyWrite(info, namespace, name, opts, (current) => {
      const patched = check(applyPatch(contentType, current, body, info.kind));
      // A patch that names a resourceVersion is a precondition on it.
      const rv = patched.metadata?.resourceVersion;
      if (rv && rv !== current.metadata?.resourceVersion) throw conflict(info, name);
      return patched;
    });
  }

  /** Applies `change` to the current object and writes it with compare-and-swap, retrying lost races. */
  async readModifyWrite(info: ResourceInfo, namespace: string | undefined, name: string, opts: WriteOptions & { subresource?: UpdateSubresource }, change: (current: KubeObject) => KubeObject): Promise<KubeObject> {
    const key = storeKey(info, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(info, name);
      const current = withTypeMeta(info, decodeObject(kv));
      const next = this.admitUpdate(info, change(structuredClone(current)), current, opts.subresource);
      opts.admit?.(next, current);
      if (jsonEqual(next, current)) return current; // a no-op write does not bump the revision
      if (opts.dryRun) return next;
      try {
        return await this.writeUpdated(info, key, next, kv.modRevision, opts.fence);
      } catch (e) {
        if (isFencedError(e)) throw e;
        if (isTriremeError(e, 'Conflict') && attempt < CAS_RETRIES) continue;
        if (isTriremeError(e, 'Conflict')) throw conflict(info, name);
        if (isTriremeError(e, 'NotFound')) throw notFound(info, name);
        throw e;
      }
    }
  }

  /** Writes an admitted update; an object whose deletion waited only on finalizers now goes. */
  private async writeUpdated(info: ResourceInfo, key: string, next: KubeObject, expectedRevision: number, fence: WriteFence | undefined): Promise<KubeObject> {
    const meta = next.metadata!;
    const strategy = this.strategy(info.kind);
    if (strategy.readyToRemove(next)) {
      const { revision } = await this.fenced(fence, (w) => this.store.delete(key, expectedRevision, w));
      this.noteWrite(info, revision);
      await strategy.afterWrite?.('removed', next);
      return withTypeMeta(info, { ...next, metadata: { ...meta, resourceVersion: String(revision) } });
    }
    const value = encodeObject(next);
    const out = await this.fenced(fence, (w) => this.store.update(key, value, expectedRevision, w));
    this.noteWrite(info, out.modRevision);
    return withTypeMeta(info, stamped(next, out.modRevision));
  }

  /**
   * Runs one store write under the request's fence: the write carries the fence's guard; when
   * the guard fails, the fence re-checks the Lease (throwing the fenced 409 if it moved on) and
   * the write is tried again with the new guard, a bounded number of times.
   */
  private async fenced<T>(fence: WriteFence | undefined, write: (opts: WriteOpts) => Promise<T>): Promise<T> {
    if (!fence) return write({});
    for (let attempt = 0; ; attempt++) {
      try {
        return await write({ guard: fence.guard() });
      } catch (e) {
        if (!isGuardFailure(e)) throw e;
        await fence.recheck();
        if (attempt >= FENCE_RETRIES) {
          throw new TriremeError('Conflict', `the fencing lease changed ${attempt + 1} times while this write was applied; try again`, { context: { lease: fence.guard().key } });
        }
      }
    }
  }

  private admitUpdate(info: ResourceInfo, incoming: KubeObject, current: KubeObject, subresource: UpdateSubresource | undefined): KubeObject {
    checkTypeMeta(info, incoming);
    const oldMeta = current.metadata!;
    let next = mergeForUpdate(info, { ...incoming, apiVersion: groupVersion(info), kind: info.kind }, current, subresource);
    const meta = { ...(next.metadata ?? {}) };
    // Server-owned metadata cannot be changed by a write.
    meta.name = oldMeta.name;
    if (info.namespaced) meta.namespace = oldMeta.namespace;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.resourceVersion = oldMeta.resourceVersion;
    if (oldMeta.deletionTimestamp) {
      meta.deletionTimestamp = oldMeta.deletionTimestamp;
      if (oldMeta.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
      // Once deleting, finalizers can only be removed, never added.
      const allowed = new Set(oldMeta.finalizers ?? []);
      const added = (meta.finalizers ?? []).filter((f) => !allowed.has(f));
      if (added.length > 0) throw new TriremeError('Forbidden', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`);
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    delete meta.managedFields;
    if (tracksGeneration(info)) meta.generation = oldMeta.generation ?? 1;
    else delete meta.generation;
    if (meta.generateName === undefined) delete meta.generateName;
    next = { ...next, metadata: meta };
    next = this.strategy(info.kind).prepareUpdate(next, current);
    if (subresource === undefined) next = applyDefaults(next);
    if (tracksGeneration(info) && !jsonEqual(specPart(next), specPart(current))) {
      next = { ...next, metadata: { ...next.metadata, generation: (oldMeta.generation ?? 1) + 1 } };
    }
    // Binding is the server's own, checked write of spec.nodeName (which pod updates may not change).
    const causes = subresource === 'binding' ? [] : validateUpdate(next, current);
    if (causes.length > 0) throw invalidError(info.kind, meta.name ?? '', causes, info.group);
    return next;
  }

  async delete(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = storeKey(info, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(info, name);
      const current = withTypeMeta(info, decodeObject(kv));
      const meta = current.metadata!;
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw new TriremeError('Conflict', `Operation cannot be fulfilled on ${qualifiedName(info.group, info.resource, name)}: Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`, { context: { name, group: info.group, kind: info.resource } });
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw new TriremeError('Conflict', `Operation cannot be fulfilled on ${qualifiedName(info.group, info.resource, name)}: Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`, { context: { name, group: info.group, kind: info.resource } });
      }
      const strategy = this.strategy(info.kind);
      const plan = strategy.planDelete(current, opts, this.clock.now());
      if (opts.dryRun) return plan.action === 'remove' ? { object: current, deleted: true } : { object: plan.object, deleted: false };
      try {
        if (plan.action === 'remove') {
          const { revision } = await this.fenced(opts.fence, (w) => this.store.delete(key, kv.modRevision, w));
          this.noteWrite(info, revision);
          await strategy.afterWrite?.('removed', current);
          return { object: current, deleted: true };
        }
        if (jsonEqual(plan.object, current)) return { object: current, deleted: false };
        const value = encodeObject(plan.object);
        const out = await this.fenced(opts.fence, (w) => this.store.update(key, value, kv.modRevision, w));
        this.noteWrite(info, out.modRevision);
        return { object: withTypeMeta(info, stamped(plan.object, out.modRevision)), deleted: false };
      } catch (e) {
        if (isFencedError(e)) throw e;
        if (isTriremeError(e, 'Conflict') && attempt < CAS_RETRIES) continue;
        if (isTriremeError(e, 'NotFound')) throw notFound(info, name);
        throw e;
      }
    }
  }

  /** All resources with a namespace, for namespace deletion. */
  namespacedResources(): ResourceInfo[] {
    return RESOURCES.filter((r) => r.namespaced);
  }
}

// ---- encoding ---------------------------------------------------------------------------

/** Stored form: the object without resourceVersion (the store's revision is the truth). */
export function encodeObject(obj: KubeObject): string {
  const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
  return JSON.stringify({ ...obj, metadata: meta });
}

export function decodeObject(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(kv.modRevision) };
  return obj;
}

/** The object as written at `revision` (what a read would return, without parsing it again). */
function stamped(obj: KubeObject, revision: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
}

function withTypeMeta(info: ResourceInfo, obj: KubeObject): KubeObject {
  if (obj.apiVersion === groupVersion(info) && obj.kind === info.kind) return obj;
  return { ...obj, apiVersion: groupVersion(info), kind: info.kind };
}

function checkTypeMeta(info: ResourceInfo, obj: KubeObject): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new TriremeError('BadRequest', 'the request body must be a JSON object');
  const gv = groupVersion(info);
  if ((obj.kind !== undefined && obj.kind !== info.kind) || (obj.apiVersion !== undefined && obj.apiVersion !== gv)) {
    throw new TriremeError('BadRequest', `the API version in the data (${String(obj.apiVersion)}) and kind (${String(obj.kind)}) do not match the resource ${qualifiedName(info.group, info.resource)} (expected ${gv}, ${info.kind})`);
  }
}

export function notFound(info: ResourceInfo, name: string): TriremeError {
  return new TriremeError('NotFound', `${qualifiedName(info.group, info.resource, name)} not found`, { context: { name, group: info.group, kind: info.resource } });
}

function alreadyExists(info: ResourceInfo, name: string): TriremeError {
  return new TriremeError('AlreadyExists', `${qualifiedName(info.group, info.resource, name)} already exists`, { context: { name, group: info.group, kind: info.resource } });
}

function conflict(info: ResourceInfo, name: string): TriremeError {
  return new TriremeError('Conflict', `Operation cannot be fulfilled on ${qualifiedName(info.group, info.resource, name)}: the object has been modified; please apply your changes to the latest version and try again`, { context: { name, group: info.group, kind: info.resource } });
}

function encodeContinue(lastKey: string, prefix: string, revision: number): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: revision, start: lastKey.slice(prefix.length) })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): { startAfter: string; revision: number } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString()) as { v?: number; start?: unknown; rv?: unknown };
    if (t.v !== 1 || typeof t.start !== 'string' || typeof t.rv !== 'number') throw new Error('bad token');
    return { startAfter: prefix + t.start, revision: t.rv };
  } catch {
    throw new TriremeError('BadRequest', 'continue key is not valid: the token is malformed');
  }
}

export type { CachedItem };
