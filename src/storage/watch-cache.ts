// WatchCache: the API server's in-memory view of one resource prefix (DESIGN.md §3), fed by a
// single store watch. Lists, gets and watches are served from it; writes go to the store.
//
// Guarantees:
// - The cache applies store events in revision order; `revision` is the newest revision
//   applied (or the list revision after a (re)list). `list()` is a consistent snapshot at it.
// - `watch(after, ...)` delivers every change with revision > after under the given prefix,
//   in order, once: first from a bounded history buffer, then live. If the buffer no longer
//   reaches back to `after`, it throws `Gone` (the client must relist).
// - When the store watch fails, the cache relists and rewatches (with back-off); watchers
//   stay attached and receive synthetic events for the difference between the old and new
//   state, so they stay consistent.
// - A watcher that throws is logged and does not disturb the others.
// Not guaranteed:
// - Synthetic events after a relist carry the object's modRevision, or for deletions the list
//   revision (the real deletion revision is unknown); intermediate states are lost.
// - `waitFor(R)` only resolves for revisions the cache can see: a write under this prefix,
//   a (re)list at or after R, or a progress notification from the store (etcd) at or after R.
//   On a store without progress notifications (SQLite), revisions of writes under other
//   prefixes never arrive here.
// - Item order is JavaScript string order (equal to the store's for ASCII keys).
import { TriremeError, isTriremeError } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { KeyValue, Store, StoreEvent, StoreWatch } from './store.js';

export interface CachedItem<T> {
  key: string;
  value: T;
  createRevision: number;
  modRevision: number;
}

export interface CacheEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** For DELETED: the last value, with modRevision = the deletion revision. */
  item: CachedItem<T>;
  revision: number;
  prev?: CachedItem<T>;
}

export interface WatchCacheOptions {
  /** Events kept for watches that resume from a past revision (default 5000). */
  historySize?: number;
  logger?: Logger;
  clock?: Clock;
}

interface CacheWatcher<T> {
  prefix: string;
  /** Only events after this revision (it may lie in the future). */
  after: number;
  handler: (ev: CacheEvent<T>) => void;
  /** Replayed events not yet delivered; live events queue behind them. Null once caught up. */
  pending: CacheEvent<T>[] | null;
  cancelled: boolean;
}

interface Waiter {
  revision: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: Timer;
}

const RELIST_MIN_MS = 100;
const RELIST_MAX_MS = 5_000;

export class WatchCache<T> {
  private readonly items = new Map<string, CachedItem<T>>();
  /** Keys in order, rebuilt lazily after a key is added or removed. */
  private sortedKeys: string[] | null = [];
  /** Ring of recent events; `history[historyStart..]` in revision order. */
  private history: CacheEvent<T>[] = [];
  private historyStart = 0;
  /** Every event with revision > historyFloor is in the buffer. */
  private historyFloor = 0;
  private rev = 0;
  private readonly watchers = new Set<CacheWatcher<T>>();
  private waiters: Waiter[] = [];
  private storeWatch: StoreWatch | undefined;
  private relistTimer: Timer | undefined;
  private relistDelay = RELIST_MIN_MS;
  private stopped = false;
  private readonly historySize: number;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly decode: (kv: KeyValue) => T,
    opts: WatchCacheOptions = {},
  ) {
    this.historySize = Math.max(1, opts.historySize ?? 5000);
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
  }

  /** Newest revision applied. */
  get revision(): number {
    return this.rev;
  }

  /** Number of items held (under the whole prefix). */
  get size(): number {
    return this.items.size;
  }

  /**
   * The store confirmed that nothing under the prefix changed after `from` up to `revision`
   * (Store.changesSince): the cache is current at `revision`. Applies only while the cache is
   * still at `from` (its items change only with its revision); returns whether it applied.
   */
  confirmCurrent(from: number, revision: number): boolean {
    if (this.stopped || this.rev !== from) return false;
    this.advance(revision);
    return true;
  }

  /** Lists the prefix and starts watching from the list revision. Rejects if the first list fails. */
  async start(): Promise<void> {
    const res = await this.store.list(this.prefix);
    if (this.stopped) return;
    this.load(res.items, res.revision);
    this.historyFloor = res.revision;
    this.watchFrom(res.revision);
  }

  stop(): void {
    this.stopped = true;
    this.storeWatch?.cancel();
    this.storeWatch = undefined;
    if (this.relistTimer) this.clock.clearTimeout(this.relistTimer);
    for (const w of this.watchers) w.cancelled = true;
    this.watchers.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const x of waiters) {
      this.clock.clearTimeout(x.timer);
      x.reject(new TriremeError('ServiceUnavailable', `watch cache for ${this.prefix} stopped`));
    }
  }

  get(key: string): CachedItem<T> | undefined {
    return this.items.get(key);
  }

  /** Items under `prefix` (default: all), sorted by key, and the revision they are consistent with. */
  list(prefix = ''): { items: CachedItem<T>[]; revision: number } {
    const keys = this.keysInOrder();
    const items: CachedItem<T>[] = [];
    for (let i = lowerBound(keys, prefix); i < keys.length; i++) {
      const k = keys[i] as string;
      if (!k.startsWith(prefix)) break;
      items.push(this.items.get(k) as CachedItem<T>);
    }
    return { items, revision: this.rev };
  }

  /**
   * Items under `prefix` as they were at `revision` (a past list's snapshot), rebuilt by undoing
   * the buffered events after it. Throws `Gone` when that history has left the buffer.
   */
  listAt(revision: number, prefix = ''): { items: CachedItem<T>[]; revision: number } {
    if (revision >= this.rev) return this.list(prefix);
    if (revision < this.historyFloor) {
      throw new TriremeError('Gone', `too old resource version: ${revision} (${this.historyFloor})`, { context: { compactRevision: this.historyFloor } });
    }
    const state = new Map<string, CachedItem<T>>();
    for (const item of this.list(prefix).items) state.set(item.key, item);
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      const ev = this.history[i] as CacheEvent<T>;
      if (ev.revision <= revision) break;
      if (!ev.item.key.startsWith(prefix)) continue;
      if (ev.prev) state.set(ev.item.key, ev.prev);
      else state.delete(ev.item.key);
    }
    const items = [...state.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items, revision };
  }

  /** Resolves once the cache has applied `revision`; rejects with `Timeout` after `timeoutMs`. */
  waitFor(revision: number, timeoutMs: number): Promise<void> {
    if (this.rev >= revision) return Promise.resolve();
    if (this.stopped) return Promise.reject(new TriremeError('ServiceUnavailable', `watch cache for ${this.prefix} stopped`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        revision,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== waiter);
          reject(new TriremeError('Timeout', `watch cache for ${this.prefix} did not reach revision ${revision} in ${timeoutMs} ms (at ${this.rev})`, {
            context: { revision, cacheRevision: this.rev },
          }));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Delivers every change under `prefix` with revision > afterRevision (>= 1 expected; the caller
   * turns "from now" into a list plus a watch from its revision). Throws `Gone` if history is gone.
   */
  watch(afterRevision: number, prefix: string, handler: (ev: CacheEvent<T>) => void): { cancel(): void } {
    if (afterRevision < this.historyFloor) {
      throw new TriremeError('Gone', `too old resource version: ${afterRevision} (${this.historyFloor})`, {
        context: { compactRevision: this.historyFloor },
      });
    }
    const replay: CacheEvent<T>[] = [];
    for (let i = this.historyStart; i < this.history.length; i++) {
      const ev = this.history[i] as CacheEvent<T>;
      if (ev.revision > afterRevision && ev.item.key.startsWith(prefix)) replay.push(ev);
    }
    const w: CacheWatcher<T> = { prefix, after: afterRevision, handler, pending: replay, cancelled: false };
    this.watchers.add(w);
    // Replay asynchronously so the caller holds the cancel handle before the first event.
    queueMicrotask(() => this.drain(w));
    return {
      cancel: () => {
        w.cancelled = true;
        this.watchers.delete(w);
      },
    };
  }

  // --- feeding from the store ---

  private watchFrom(revision: number): void {
    this.storeWatch = this.store.watch(this.prefix, revision, {
      onEvent: (ev) => this.onStoreEvent(ev),
      onError: (err) => this.onStoreError(err),
      onProgress: (revision) => this.onStoreProgress(revision),
    });
  }

  private onStoreError(err: Error): void {
    this.storeWatch = undefined;
    if (this.stopped) return;
    if (isTriremeError(err, 'StoreClosed')) {
      this.log.warn({ prefix: this.prefix }, 'store closed; watch cache stops following it');
      return;
    }
    this.log.warn({ err, prefix: this.prefix, revision: this.rev }, 'store watch failed; relisting');
    this.scheduleRelist();
  }

  private scheduleRelist(): void {
    const delay = this.relistDelay;
    this.relistDelay = Math.min(RELIST_MAX_MS, this.relistDelay * 2);
    this.relistTimer = this.clock.setTimeout(() => {
      this.relistTimer = undefined;
      void this.relist();
    }, delay);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const res = await this.store.list(this.prefix);
      if (this.stopped) return;
      this.replaceAll(res.items, res.revision);
      this.watchFrom(res.revision);
      this.relistDelay = RELIST_MIN_MS;
      this.log.info({ prefix: this.prefix, revision: res.revision }, 'relisted');
    } catch (err) {
      if (this.stopped || isTriremeError(err, 'StoreClosed')) return;
      this.log.warn({ err, prefix: this.prefix }, 'relist failed; retrying');
      this.scheduleRelist();
    }
  }

  /** The store delivered everything under the prefix up to `revision`: the cache is current at it. */
  private onStoreProgress(revision: number): void {
    if (this.stopped) return;
    this.advance(revision);
  }

  private onStoreEvent(ev: StoreEvent): void {
    if (this.stopped) return;
    const revision = ev.type === 'put' ? ev.kv.modRevision : ev.revision;
    if (revision <= this.rev) return; // already covered by a list
    try {
      if (ev.type === 'put') {
        const item = this.toItem(ev.kv);
        const prev = this.items.get(item.key);
        this.apply({ type: prev ? 'MODIFIED' : 'ADDED', item, revision, ...(prev ? { prev } : {}) });
      } else {
        const prev = this.items.get(ev.key) ?? this.toItem(ev.prev);
        this.apply({ type: 'DELETED', item: { ...prev, modRevision: revision }, revision, prev });
      }
    } catch (err) {
      // An undecodable value: skip the object rather than stall the whole resource.
      this.log.error({ err, prefix: this.prefix, revision }, 'cannot decode stored value; skipping event');
      this.advance(revision);
    }
  }

  private toItem(kv: KeyValue): CachedItem<T> {
    return { key: kv.key, value: this.decode(kv), createRevision: kv.createRevision, modRevision: kv.modRevision };
  }

  /** The first list: nobody watches yet, so the state is simply taken over. */
  private load(kvs: KeyValue[], revision: number): void {
    this.items.clear();
    for (const [key, item] of this.decodeAll(kvs)) this.items.set(key, item);
    this.sortedKeys = null;
    this.advance(revision);
  }

  private decodeAll(kvs: KeyValue[]): Map<string, CachedItem<T>> {
    const fresh = new Map<string, CachedItem<T>>();
    for (const kv of kvs) {
      try {
        fresh.set(kv.key, this.toItem(kv));
      } catch (err) {
        this.log.error({ err, key: kv.key }, 'cannot decode stored value; leaving it out');
      }
    }
    return fresh;
  }

  /** Replaces the state with a fresh list, emitting the difference as events. */
  private replaceAll(kvs: KeyValue[], revision: number): void {
    const fresh = this.decodeAll(kvs);
    const events: CacheEvent<T>[] = [];
    for (const [key, item] of fresh) {
      const old = this.items.get(key);
      if (!old) events.push({ type: 'ADDED', item, revision: Math.max(item.modRevision, this.rev + 1) });
      else if (old.modRevision !== item.modRevision) events.push({ type: 'MODIFIED', item, revision: item.modRevision, prev: old });
    }
    for (const [key, old] of this.items) {
      if (!fresh.has(key)) events.push({ type: 'DELETED', item: { ...old, modRevision: revision }, revision, prev: old });
    }
    events.sort((a, b) => a.revision - b.revision);
    for (const ev of events) this.apply(ev);
    this.advance(revision);
  }

  /** Applies one event to the state, records it, and fans it out. */
  private apply(ev: CacheEvent<T>): void {
    const key = ev.item.key;
    if (ev.type === 'DELETED') {
      this.items.delete(key);
      this.sortedKeys = null;
    } else {
      if (!this.items.has(key)) this.sortedKeys = null;
      this.items.set(key, ev.item);
    }
    this.record(ev);
    for (const w of this.watchers) {
      if (ev.revision <= w.after || !key.startsWith(w.prefix)) continue;
      if (w.pending) w.pending.push(ev);
      else this.deliver(w, ev);
    }
    this.advance(ev.revision);
  }

  private record(ev: CacheEvent<T>): void {
    this.history.push(ev);
    if (this.history.length - this.historyStart > this.historySize) {
      const evicted = this.history[this.historyStart++] as CacheEvent<T>;
      this.historyFloor = Math.max(this.historyFloor, evicted.revision);
      // Compact the array now and then instead of shifting on every event.
      if (this.historyStart > this.historySize) {
        this.history = this.history.slice(this.historyStart);
        this.historyStart = 0;
      }
    }
  }

  private advance(revision: number): void {
    if (revision <= this.rev) return;
    this.rev = revision;
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const x of this.waiters) {
      if (x.revision <= revision) {
        this.clock.clearTimeout(x.timer);
        x.resolve();
      } else still.push(x);
    }
    this.waiters = still;
  }

  // --- fan-out ---

  private drain(w: CacheWatcher<T>): void {
    const pending = w.pending ?? [];
    // Events applied while draining land in `pending` (it is still set), so the loop sees them.
    for (let i = 0; i < pending.length && !w.cancelled; i++) this.deliver(w, pending[i] as CacheEvent<T>);
    w.pending = null;
  }

  private deliver(w: CacheWatcher<T>, ev: CacheEvent<T>): void {
    if (w.cancelled) return;
    try {
      w.handler(ev);
    } catch (err) {
      this.log.error({ err, prefix: w.prefix, revision: ev.revision }, 'cache watcher threw');
    }
  }

  private keysInOrder(): string[] {
    if (!this.sortedKeys) this.sortedKeys = [...this.items.keys()].sort();
    return this.sortedKeys;
  }
}

/** Index of the first key >= target. */
function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
