// The Store: a revisioned key-value space (DESIGN.md §3), the only thing the API server
// persists through. Backends: SQLite (one server) and etcd (HA).
//
// Guarantees every backend gives:
// - Every change gets a store-wide, strictly increasing revision; `modRevision` of a key is
//   the revision of its last change, `createRevision` the revision that created it.
// - A promise that resolves means the change is durable (committed and synced).
// - `create` fails with `AlreadyExists` if the key is present; `update`/`delete` with an
//   expected revision fail with `Conflict` if the key changed since (compare-and-swap), and
//   with `NotFound` if it is absent.
// - A write guard (`opts.guard`): the write happens only if the guard key's modRevision still
//   equals `guard.modRevision` when the write applies (an absent key counts as 0, as in etcd),
//   atomically with the write; otherwise it fails with `Conflict` whose context has
//   `guardFailed: true`, and nothing is written. The guard is checked before the key's own
//   checks, so a write that fails both reports the guard.
// - A watch delivers every change under its prefix with revision > afterRevision, in revision
//   order, each exactly once, until cancelled or failed. Starting before the compacted
//   revision fails with a `Gone` TriremeError (context.compactRevision).
// - `readiness()` exercises the backend (a read through it, and the outcome of its last write)
//   and never throws; it is what the API server's /readyz reports (storage/readiness.ts).
// Not guaranteed: values are opaque strings; nothing here knows about Kubernetes objects.
import { isTriremeError, TriremeError } from '../errors.js';
import type { StoreReadiness } from './readiness.js';

export type { StoreReadiness } from './readiness.js';

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

export type StoreEvent =
  | { type: 'put'; kv: KeyValue; prev?: KeyValue }
  /** `revision` is the revision of the deletion; `prev` the last value. */
  | { type: 'delete'; key: string; revision: number; prev: KeyValue };

export interface ListResult {
  items: KeyValue[];
  /** The store revision the list is consistent with. */
  revision: number;
}

export interface WatchHandler {
  onEvent(ev: StoreEvent): void;
  /** Called at most once; the watch has ended. Not called after `cancel()`. */
  onError(err: Error): void;
  /**
   * Optional: the store reports that every change under the prefix with revision <= `revision`
   * has been delivered (etcd progress notifications), so an idle watcher learns that it is
   * current. Revisions only grow; a backend may never call it (SQLite does not).
   */
  onProgress?(revision: number): void;
}

export interface StoreWatch {
  cancel(): void;
}

/** The write happens only while `key`'s modRevision is still `modRevision` (fencing, DESIGN.md §4). */
export interface WriteGuard {
  key: string;
  modRevision: number;
}

export interface WriteOpts {
  guard?: WriteGuard;
}

/** Whether `err` is a write refused because its guard key changed. */
export function isGuardFailure(err: unknown): boolean {
  return isTriremeError(err, 'Conflict') && err.context.guardFailed === true;
}

/** The refusal of a write whose guard key is at `actual` instead of the guard's revision. */
export function guardFailed(guard: WriteGuard, actual: number): TriremeError {
  return new TriremeError('Conflict', `write guard failed: key ${guard.key} is at revision ${actual}, not ${guard.modRevision}`, {
    context: { guardFailed: true, key: guard.key, expected: guard.modRevision, actual },
  });
}

export interface Store {
  /**
   * True when other processes may write this store (etcd): a reader that must see every
   * acknowledged write then confirms the current revision (`currentRevision`, a quorum read)
   * instead of trusting its own writes. Absent or false: this process is the only writer.
   */
  readonly shared?: boolean;
  get(key: string): Promise<KeyValue | undefined>;
  /** Every key with this prefix, in key order. */
  list(prefix: string): Promise<ListResult>;
  create(key: string, value: string, opts?: WriteOpts): Promise<KeyValue>;
  /** Compare-and-swap when expectedModRevision is given; unconditional otherwise (key must exist). */
  update(key: string, value: string, expectedModRevision?: number, opts?: WriteOpts): Promise<KeyValue>;
  /** Returns the deleted value and the revision of the deletion. */
  delete(key: string, expectedModRevision?: number, opts?: WriteOpts): Promise<{ prev: KeyValue; revision: number }>;
  watch(prefix: string, afterRevision: number, handler: WatchHandler): StoreWatch;
  /** The newest revision of the whole store; on etcd a linearizable (quorum) read. */
  currentRevision(): Promise<number>;
  /**
   * Optional (etcd): the keys under `prefix` at the store's current revision (a quorum read,
   * `revision`): how many there are and whether any was written after `after`. A reader that
   * held `count` keys under the prefix at `after` then knows that nothing changed since exactly
   * when `!writtenAfter` (a deletion lowers the count; a create or update is written after).
   */
  changesSince?(prefix: string, after: number): Promise<{ revision: number; count: number; writtenAfter: boolean }>;
  /** Forgets history at or below `revision` (current values stay). */
  compact(revision: number): Promise<void>;
  /** The revision at or below which history is gone (0 if none compacted). */
  compactRevision(): Promise<number>;
  /**
   * Optional: the backend's size on disk in bytes (SQLite: pages × page size; etcd: the db size
   * the answering member reports). For metrics; may lag a write.
   */
  sizeBytes?(): Promise<number>;
  /** Whether the backend can serve now, with a message naming the cause if not. Never rejects. */
  readiness(): Promise<StoreReadiness>;
  close(): Promise<void>;
}
