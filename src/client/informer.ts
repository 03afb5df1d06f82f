// An informer: list, then watch from the list's revision, keeping a cache of the objects and
// telling handlers what changed. Guarantees: handlers see every change in order (a relist after
// 410 Gone or a failed list reports the difference as add/update/delete); a watch that ended or
// broke (a dead server, a silent stream, an error event) is re-opened from the last
// resourceVersion seen (an event or a bookmark) — on whichever server the client picks — with
// back-off after repeated failures, and without a relist unless that server answers 410 Gone
// (its history no longer reaches back, or the resource version is unusable); `start()` resolves
// once the first list is cached. Cached objects are shared: handlers must not change them.
// `start()` rejects (and the informer stops) when the first list fails permanently — 401, 403,
// 404 or 400 (a bad selector): retrying cannot help and a caller waiting forever would hide it —
// when `syncTimeoutMs` passes without a first list (a Timeout naming the last error), or when
// `stop()` comes first. Transient failures (unreachable, 5xx, 429) are retried with backoff, as
// client-go's reflector does; after the first sync every failure is retried.
import type { KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import { TriremeError, isTriremeError, type ErrorCode } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { ApiClient } from './api-client.js';
import { objectKey } from './keys.js';

export interface InformerHandler<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  logger?: Logger;
  clock?: Clock;
  /** Longest pause between reconnection attempts. */
  maxBackoffMs?: number;
  /** Reject `start()` if the first list has not succeeded by then (default: wait while retrying). */
  syncTimeoutMs?: number;
}

/** List failures that no retry can fix, so the first sync fails with them. */
const PERMANENT: readonly ErrorCode[] = ['Unauthorized', 'Forbidden', 'NotFound', 'BadRequest', 'Invalid'];

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly log: Logger;
  private readonly clock: Clock;
  private watchHandle: { stop(): void } | undefined;
  private timer: Timer | undefined;
  private revision = '';
  private stopped = false;
  private failures = 0;
  /** Watch failures since the last event: the back-off of re-watching. */
  private watchFailures = 0;
  private firstSync: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private syncTimer: Timer | undefined;
  private lastError: Error | undefined;
  synced = false;

  constructor(private readonly client: ApiClient, readonly res: ResourceInfo, private readonly opts: InformerOptions = {}) {
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
  }

  on(h: InformerHandler<T>): void {
    this.handlers.push(h);
  }

  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.firstSync = { resolve, reject };
      const limit = this.opts.syncTimeoutMs;
      if (limit !== undefined) {
        this.syncTimer = this.clock.setTimeout(() => {
          const last = this.lastError ? `; last error: ${this.lastError.message}` : '';
          this.failSync(new TriremeError('Timeout', `${this.what()}: no first list within ${limit} ms${last}`, { cause: this.lastError, context: { resource: this.res.resource } }));
        }, limit);
      }
      void this.relist();
    });
  }

  stop(): void {
    this.stopped = true;
    this.watchHandle?.stop();
    if (this.timer) this.clock.clearTimeout(this.timer);
    if (!this.synced) this.failSync(new TriremeError('ServiceUnavailable', `${this.what()}: stopped before the first list`, { context: { resource: this.res.resource, stopped: true } }));
  }

  private what(): string {
    return `informer for ${this.res.group ? `${this.res.resource}.${this.res.group}` : this.res.resource}`;
  }

  /** Rejects the first-sync promise (once) and stops the informer. */
  private failSync(err: TriremeError): void {
    const pending = this.firstSync;
    this.firstSync = undefined;
    if (this.syncTimer) this.clock.clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    if (!this.stopped) this.stop();
    pending?.reject(err);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const items: T[] = [];
      let cont: string | undefined;
      let rv = '';
      do {
        const page = await this.client.list<T>(this.res, this.opts.namespace, { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, limit: 500, continue: cont });
        items.push(...page.items);
        cont = page.continue;
        rv = page.resourceVersion;
      } while (cont);
      if (this.stopped) return;
      this.replace(items);
      this.revision = rv;
      this.failures = 0;
      if (!this.synced) {
        this.synced = true;
        if (this.syncTimer) this.clock.clearTimeout(this.syncTimer);
        this.syncTimer = undefined;
        this.firstSync?.resolve();
        this.firstSync = undefined;
      }
      this.watch();
    } catch (err) {
      if (!this.synced && isTriremeError(err) && PERMANENT.includes(err.code)) {
        this.log.error({ err: err.message, resource: this.res.resource, code: err.code }, 'informer first list failed permanently');
        this.failSync(new TriremeError(err.code, `${this.what()}: first list failed: ${err.message}`, { cause: err, context: { resource: this.res.resource } }));
        return;
      }
      this.retry(err as Error, 'list');
    }
  }

  /** Makes the cache equal to a fresh list, telling handlers the difference. */
  private replace(items: T[]): void {
    const fresh = new Map(items.map((o) => [objectKey(o), o] as const));
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit((h) => h.delete?.(old));
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit((h) => h.add?.(obj));
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit((h) => h.update?.(old, obj));
    }
  }

  private watch(): void {
    if (this.stopped) return;
    this.watchHandle = this.client.watch(this.res, this.opts.namespace, {
      resourceVersion: this.revision, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector,
      allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 300),
    }, (ev) => {
      this.watchFailures = 0;
      const obj = ev.object as T;
      if (obj.metadata?.resourceVersion) this.revision = obj.metadata.resourceVersion;
      if (ev.type === 'BOOKMARK') return;
      const key = objectKey(obj);
      const old = this.cache.get(key);
      if (ev.type === 'DELETED') {
        this.cache.delete(key);
        this.emit((h) => h.delete?.(old ?? obj));
      } else {
        this.cache.set(key, obj);
        if (old) this.emit((h) => h.update?.(old, obj));
        else this.emit((h) => h.add?.(obj));
      }
    }, (err) => {
      this.watchHandle = undefined;
      if (this.stopped) return;
      if (!err) {
        this.watch(); // the server ended the stream (timeout): resume where we were
      } else if (isTriremeError(err, 'Gone')) {
        this.log.info({ resource: this.res.resource }, 'watch history gone; relisting');
        void this.relist();
      } else {
        this.rewatch(err);
      }
    });
  }

  /** Re-opens the watch from the last revision seen: at once the first time, then with back-off. */
  private rewatch(err: Error): void {
    if (this.stopped) return;
    this.lastError = err;
    this.watchFailures++;
    const delay = this.watchFailures <= 1 ? 0 : Math.min(this.opts.maxBackoffMs ?? 5000, 100 * 2 ** Math.min(this.watchFailures - 1, 10));
    this.log.warn({ err: err.message, resource: this.res.resource, delay, resourceVersion: this.revision }, 'informer watch failed; resuming from the last resource version');
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.watch();
    }, delay);
  }

  private retry(err: Error, what: string): void {
    if (this.stopped) return;
    this.lastError = err;
    this.failures++;
    const delay = Math.min(this.opts.maxBackoffMs ?? 5000, 100 * 2 ** Math.min(this.failures, 10));
    this.log.warn({ err: err.message, resource: this.res.resource, delay }, `informer ${what} failed; retrying`);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.relist();
    }, delay);
  }

  private emit(fn: (h: InformerHandler<T>) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (err) {
        this.log.error({ err, resource: this.res.resource }, 'informer handler threw');
      }
    }
  }
}
