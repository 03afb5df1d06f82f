// A Store that encrypts Secrets at rest (secret-encryption.ts) and otherwise is the store it
// wraps: values of keys under SECRETS_PREFIX are encrypted with the keyring's write key on
// create/update and decrypted on every read — get, list, the prev of a delete, and watch events
// (so watch caches and everything above them see plaintext objects only).
// Guarantees: every other key and every other call is forwarded unchanged; a value that names a
// key id the keyring does not hold makes the keyring refresh once (another server rotated the
// key) before the read fails; watch events stay in revision order across such a refresh (events
// that arrive meanwhile wait behind it); a value that cannot be decrypted fails the read (or
// ends the watch through onError), never passes ciphertext up as if it were an object.
// Does not: re-encrypt what is stored (rotation does, encryption-routes.ts in src/apiserver),
// or encrypt anything in the store's history (older revisions keep the bytes they were written
// with, under keys the keyring keeps).
import { decryptValue, encrypts, encryptValue, isUnknownKeyError, type Keyring } from './secret-encryption.js';
import type { KeyValue, Store, StoreEvent, WatchHandler } from './store.js';

export interface KeySource {
  current(): Keyring;
  /** Reads the cluster's keyring again (a value names a key this server has not seen yet). */
  refresh(): Promise<void>;
}

export function encryptSecrets(store: Store, keys: KeySource): Store {
  const plainKv = (kv: KeyValue): KeyValue => (encrypts(kv.key) ? { ...kv, value: decryptValue(keys.current(), kv.key, kv.value) } : kv);
  const plainEvent = (ev: StoreEvent): StoreEvent => {
    if (ev.type === 'delete') return { ...ev, prev: plainKv(ev.prev) };
    return { ...ev, kv: plainKv(ev.kv), ...(ev.prev ? { prev: plainKv(ev.prev) } : {}) };
  };
  /** `fn` again after one keyring refresh when it fails on an unknown key id. */
  const withRefresh = async <T>(fn: () => T): Promise<T> => {
    try {
      return fn();
    } catch (e) {
      if (!isUnknownKeyError(e)) throw e;
      await keys.refresh();
      return fn();
    }
  };
  const sealed = (key: string, value: string): string => (encrypts(key) ? encryptValue(keys.current(), key, value) : value);

  const wrapped: Store = {
    async get(key) {
      const kv = await store.get(key);
      return kv && withRefresh(() => plainKv(kv));
    },
    async list(prefix) {
      const res = await store.list(prefix);
      return withRefresh(() => ({ ...res, items: res.items.map(plainKv) }));
    },
    async create(key, value, opts) {
      return { ...(await store.create(key, sealed(key, value), opts)), value };
    },
    async update(key, value, expected, opts) {
      return { ...(await store.update(key, sealed(key, value), expected, opts)), value };
    },
    async delete(key, expected, opts) {
      const res = await store.delete(key, expected, opts);
      return withRefresh(() => ({ ...res, prev: plainKv(res.prev) }));
    },
    watch(prefix, after, handler) {
      const ordered = orderedDecryptingHandler(handler, plainEvent, () => keys.refresh());
      const inner = store.watch(prefix, after, ordered.handler);
      return { cancel: () => { ordered.stop(); inner.cancel(); } };
    },
    currentRevision: () => store.currentRevision(),
    compact: (r) => store.compact(r),
    compactRevision: () => store.compactRevision(),
    readiness: () => store.readiness(),
    close: () => store.close(),
  };
  if (store.shared !== undefined) Object.defineProperty(wrapped, 'shared', { value: store.shared, enumerable: true });
  if (store.changesSince) wrapped.changesSince = store.changesSince.bind(store);
  if (store.sizeBytes) wrapped.sizeBytes = store.sizeBytes.bind(store);
  return wrapped;
}

type Queued = { event: StoreEvent } | { progress: number } | { error: Error };

/**
 * Delivers `plain(ev)` for each event synchronously while that works; on an unknown key id it
 * queues that event and everything after it, refreshes the keyring once, then delivers the
 * queue in order. A failure (a refresh that fails, a value that still does not decrypt) ends the
 * watch through onError, once.
 */
function orderedDecryptingHandler(handler: WatchHandler, plain: (ev: StoreEvent) => StoreEvent, refresh: () => Promise<void>): { handler: WatchHandler; stop(): void } {
  let queue: Queued[] | undefined;
  let failed = false;
  let stopped = false;
  const fail = (err: unknown): void => {
    if (failed || stopped) return;
    failed = true;
    queue = [];
    handler.onError(err instanceof Error ? err : new Error(String(err)));
  };
  const deliver = (q: Queued): void => {
    if ('event' in q) handler.onEvent(plain(q.event));
    else if ('progress' in q) handler.onProgress?.(q.progress);
    else fail(q.error);
  };
  const drain = (): void => {
    while (queue && queue.length > 0 && !failed && !stopped) {
      const q = queue.shift()!;
      try {
        deliver(q);
      } catch (e) {
        fail(e);
      }
    }
    if (!failed) queue = undefined;
  };
  return { stop: () => { stopped = true; }, handler: {
    onEvent(ev) {
      if (failed) return;
      if (queue) { queue.push({ event: ev }); return; }
      let out: StoreEvent;
      try {
        out = plain(ev);
      } catch (e) {
        if (!isUnknownKeyError(e)) { fail(e); return; }
        queue = [{ event: ev }];
        refresh().then(drain, fail);
        return;
      }
      handler.onEvent(out);
    },
    ...(handler.onProgress ? {
      onProgress(revision: number) {
        if (failed) return;
        if (queue) queue.push({ progress: revision });
        else handler.onProgress?.(revision);
      },
    } : {}),
    onError(err) {
      if (failed) return;
      if (queue) queue.push({ error: err });
      else fail(err);
    },
  } };
}
