// SqliteStore: the one-server Store backend (DESIGN.md §3, docs/storage.md) on better-sqlite3.
//
// Guarantees, beyond the Store contract in store.ts:
// - WAL with synchronous=FULL: once a write's promise resolves, it survives a process crash
//   and (as far as the disk honours fsync) a power loss.
// - Write guards are checked inside the commit, at the write's turn in its batch, so the guard
//   key cannot change between the check and the write.
// - Group commit: the writes queued in one event-loop turn run in one transaction, one fsync,
//   acknowledged together after it committed. If the transaction fails (disk full: code
//   `InsufficientStorage`; other SQLite errors: `Internal`), every write in it fails, none is
//   acknowledged, no watcher sees any of it, and no revision is used up.
// - Readiness (`readiness()`): a read through the database that must agree with the in-memory
//   revision, the last write's outcome, a sticky fault (a corrupt file, or a failed commit that
//   is visible anyway), and the free space of the data directory's file system against a
//   reserve (`minFreeBytes`). After a failed write the store probes by itself (a checkpoint and
//   a small commit, every `probeIntervalMs`) until one succeeds, so it recovers without a
//   restart once the cause is gone.
// - Revisions are never reused, also across reopen after the newest keys were deleted and the
//   log compacted: the open revision is max(newest log row, recorded compact revision), and
//   compaction never forgets more than it records.
// - Watch events are delivered outside the write transaction, asynchronously, in revision
//   order, exactly once per watch. A watcher that falls far behind drops its in-memory queue
//   and catches up from the change log, so it holds up neither writers nor other watchers
//   (if that part of the log got compacted meanwhile, it ends with `Gone`).
// - History is bounded: a periodic compaction through the injected clock keeps the last
//   `historyLimit` revisions.
// Not guaranteed / not supported:
// - One process per database file: it is opened with an exclusive lock, a second opener fails.
// - Transactions run synchronously on the event-loop thread (better-sqlite3): a commit blocks
//   the process for its fsync.
// - Corruption is noticed only when SQLite reads a damaged page (the readiness read touches a
//   few pages, not the whole file); once noticed it is sticky.
// - A successful probe shows that a small commit fits, not that every write will.
// - Key order is SQLite's binary (UTF-8 byte) order.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TriremeError } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { decideReadiness, type StoreReadiness, type WriteOutcome } from './readiness.js';
import { guardFailed, type KeyValue, type ListResult, type Store, type StoreEvent, type StoreWatch, type WatchHandler, type WriteOpts } from './store.js';

export interface SqliteStoreOptions {
  clock?: Clock;
  logger?: Logger;
  /** Revisions of history kept by automatic compaction (default 10,000). */
  historyLimit?: number;
  /** How often automatic compaction runs (default 30 s). */
  compactIntervalMs?: number;
  /** Live events a watcher may have queued before it falls back to reading the log (default 10,000). */
  maxWatcherQueue?: number;
  /** Below this much free space in the database's directory the store reports not ready (default 32 MiB). */
  minFreeBytes?: number;
  /** Pause between write probes after a failed write (default 1 s). */
  probeIntervalMs?: number;
}

/** SQLite result codes after which the file cannot be trusted until someone repairs it. */
const CORRUPT_CODES: ReadonlySet<string> = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** A SQLite failure as a TriremeError: disk full is `InsufficientStorage`, the rest `Internal`. */
export function sqliteError(err: unknown): TriremeError {
  if (err instanceof TriremeError) return err;
  const e = err as Error & { code?: unknown };
  const sqliteCode = typeof e.code === 'string' ? e.code : 'unknown';
  if (sqliteCode === 'SQLITE_FULL') {
    return new TriremeError('InsufficientStorage', `the store's disk is full, nothing was written (SQLite: ${e.message})`, { cause: err, context: { sqliteCode } });
  }
  return new TriremeError('Internal', `SQLite: ${e.message} (${sqliteCode})`, { cause: err, context: { sqliteCode } });
}

const SCHEMA_VERSION = 1;
/** Log rows deleted per compaction transaction, so that one compaction never stalls writers long. */
const COMPACT_CHUNK = 1_000;
/** Events handed to one watcher per dispatch turn before yielding to I/O. */
const DELIVERY_BATCH = 1_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  -- One row per revision: the change log. rev is the revision (the table's row id).
  -- put: value/create_rev describe the new value; delete: the value that was deleted.
  -- prev_rev is the mod revision of the value before this change (NULL on create).
  CREATE TABLE IF NOT EXISTS log (
    rev        INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL,
    deleted    INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    create_rev INTEGER NOT NULL,
    prev_rev   INTEGER
  );
  -- The current state: one row per live key.
  CREATE TABLE IF NOT EXISTS kv (
    key             TEXT PRIMARY KEY,
    value           TEXT    NOT NULL,
    create_revision INTEGER NOT NULL,
    mod_revision    INTEGER NOT NULL
  );
`;

interface KvRow {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
}

interface LogRow {
  rev: number;
  key: string;
  deleted: number;
  value: string;
  create_rev: number;
  prev_rev: number | null;
  /** From the join on the previous log row, when that row is still there. */
  p_value: string | null;
  p_create_rev: number | null;
}

/** The smallest string greater than every string starting with `prefix` (binary UTF-8 order); undefined if none. */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (cps.length > 0) {
    const last = cps.pop() ?? 0;
    if (last < 0x10ffff) {
      // UTF-8 byte order equals code point order; surrogates are not characters, skip them.
      cps.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...cps);
    }
  }
  return undefined;
}

function toKv(r: KvRow): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.create_revision, modRevision: r.mod_revision };
}

export function eventRevision(ev: StoreEvent): number {
  return ev.type === 'put' ? ev.kv.modRevision : ev.revision;
}

function logRowToEvent(r: LogRow): StoreEvent {
  if (r.deleted) {
    return {
      type: 'delete',
      key: r.key,
      revision: r.rev,
      prev: { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.prev_rev ?? r.create_rev },
    };
  }
  const kv: KeyValue = { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.rev };
  if (r.prev_rev !== null && r.p_value !== null && r.p_create_rev !== null) {
    return { type: 'put', kv, prev: { key: r.key, value: r.p_value, createRevision: r.p_create_rev, modRevision: r.prev_rev } };
  }
  return { type: 'put', kv };
}

/** A live watch. `cursor`: every event at or below it has been delivered or ruled out. */
interface Watcher {
  prefix: string;
  end: string | undefined;
  handler: WatchHandler;
  cursor: number;
  /** Live mode: committed events arrive through `queue`. Otherwise the watcher reads the log. */
  live: boolean;
  queue: StoreEvent[];
  queueHead: number;
  done: boolean;
}

function matches(w: Watcher, key: string): boolean {
  return key >= w.prefix && (w.end === undefined || key < w.end);
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly historyLimit: number;
  private readonly compactIntervalMs: number;
  private readonly maxWatcherQueue: number;
  private readonly minFreeBytes: number;
  private readonly probeIntervalMs: number;
  /** The directory holding the database, WAL and temporary files (for free space). */
  private readonly dir: string;
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly tx: (fn: () => void) => void;
  private rev: number;
  private compactRev: number;
  private closed = false;
  private readonly watchers = new Set<Watcher>();
  private dispatchScheduled = false;
  private readonly pendingWrites: { op: () => { result: unknown; event: StoreEvent }; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private flushScheduled = false;
  private compactTimer: Timer | undefined;
  /** Compactions run one at a time, in call order. */
  private compaction: Promise<void> = Promise.resolve();
  private lastWrite: WriteOutcome | undefined;
  /** Set once the database cannot be trusted; cleared only by reopening. */
  private fault: string | undefined;
  private probeTimer: Timer | undefined;

  private constructor(db: Database.Database, path: string, opts: SqliteStoreOptions) {
    this.db = db;
    this.dir = dirname(path);
    this.minFreeBytes = Math.max(0, opts.minFreeBytes ?? 32 * 1024 * 1024);
    this.probeIntervalMs = Math.max(1, opts.probeIntervalMs ?? 1_000);
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.historyLimit = Math.max(1, opts.historyLimit ?? 10_000);
    this.compactIntervalMs = Math.max(1, opts.compactIntervalMs ?? 30_000);
    this.maxWatcherQueue = Math.max(1, opts.maxWatcherQueue ?? 10_000);
    this.stmt = prepare(db);
    this.tx = db.transaction((fn: () => void) => fn());
    const stored = this.storedRevision();
    this.compactRev = stored.compactRev;
    this.rev = stored.rev;
    this.scheduleAutoCompaction();
  }

  /** Opens (creating if needed) the database file at `path`. */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { timeout: 2_000 });
      // Exclusive: the in-memory revision counter and watch fan-out assume this process is
      // the only writer. Set before WAL so that no shared-memory file is needed.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version === 0) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      else if (version !== SCHEMA_VERSION) throw new Error(`unsupported schema version ${version}`);
      return new SqliteStore(db, path, opts);
    } catch (err) {
      db?.close();
      if (err instanceof TriremeError) throw err;
      throw new TriremeError('Internal', `cannot open SQLite store at ${path}: ${(err as Error).message}`, { cause: err, context: { path } });
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const r = this.guard(() => this.stmt.get.get(key) as KvRow | undefined);
    return r && toKv(r);
  }

  async list(prefix: string): Promise<ListResult> {
    this.assertOpen();
    const end = prefixEnd(prefix);
    // Two statements so that the bounded one is a plain index range scan.
    const rows = this.guard(() => (end === undefined ? this.stmt.listAll.all(prefix) : this.stmt.list.all(prefix, end)) as KvRow[]);
    return { items: rows.map(toKv), revision: this.rev };
  }

  async create(key: string, value: string, opts?: WriteOpts): Promise<KeyValue> {
    this.assertOpen();
    return this.groupCommit(() => {
      this.checkGuard(opts);
      if (this.stmt.get.get(key)) throw new TriremeError('AlreadyExists', `key ${key} already exists`, { context: { key } });
      const rev = ++this.rev;
      this.stmt.insertLog.run(rev, key, 0, value, rev, null);
      this.stmt.upsertKv.run(key, value, rev, rev);
      const kv = { key, value, createRevision: rev, modRevision: rev };
      return { result: kv, event: { type: 'put', kv } };
    });
  }

  async update(key: string, value: string, expectedModRevision?: number, opts?: WriteOpts): Promise<KeyValue> {
    this.assertOpen();
    return this.groupCommit(() => {
      this.checkGuard(opts);
      const prev = this.current(key, expectedModRevision);
      const rev = ++this.rev;
      this.stmt.insertLog.run(rev, key, 0, value, prev.createRevision, prev.modRevision);
      this.stmt.upsertKv.run(key, value, prev.createRevision, rev);
      const kv = { key, value, createRevision: prev.createRevision, modRevision: rev };
      return { result: kv, event: { type: 'put', kv, prev } };
    });
  }

  async delete(key: string, expectedModRevision?: number, opts?: WriteOpts): Promise<{ prev: KeyValue; revision: number }> {
    this.assertOpen();
    return this.groupCommit(() => {
      this.checkGuard(opts);
      const prev = this.current(key, expectedModRevision);
      const rev = ++this.rev;
      this.stmt.insertLog.run(rev, key, 1, prev.value, prev.createRevision, prev.modRevision);
      this.stmt.deleteKv.run(key);
      return { result: { prev, revision: rev }, event: { type: 'delete', key, revision: rev, prev } };
    });
  }

  watch(prefix: string, afterRevision: number, handler: WatchHandler): StoreWatch {
    const w: Watcher = { prefix, end: prefixEnd(prefix), handler, cursor: afterRevision, live: false, queue: [], queueHead: 0, done: false };
    if (this.closed) {
      setImmediate(() => this.fail(w, new TriremeError('StoreClosed', 'store is closed')));
      return { cancel: () => { w.done = true; } };
    }
    this.watchers.add(w);
    this.scheduleDispatch();
    return {
      cancel: () => {
        w.done = true;
        this.watchers.delete(w);
      },
    };
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.rev;
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    if (revision > this.rev) {
      throw new TriremeError('BadRequest', `cannot compact to future revision ${revision} (current ${this.rev})`, { context: { revision, current: this.rev } });
    }
    await this.enqueueCompaction(revision);
  }

  async compactRevision(): Promise<number> {
    this.assertOpen();
    return this.compactRev;
  }

  async sizeBytes(): Promise<number> {
    this.assertOpen();
    const pages = Number(this.db.pragma('page_count', { simple: true }));
    const size = Number(this.db.pragma('page_size', { simple: true }));
    return pages * size;
  }

  async readiness(): Promise<StoreReadiness> {
    if (this.closed) return { ok: false, message: 'sqlite: store is closed' };
    let readError: string | undefined;
    try {
      const stored = this.guard(() => this.storedRevision());
      // Between transactions the database and the in-memory revision agree; if not, the file
      // is not the one this process has been writing.
      if (stored.rev !== this.rev) readError = `the database is at revision ${stored.rev}, the store at ${this.rev}`;
    } catch (err) {
      readError = (err as Error).message;
    }
    let space: { dir: string; freeBytes: number; minFreeBytes: number } | undefined;
    let spaceError: string | undefined;
    try {
      const s = await statfs(this.dir);
      space = { dir: this.dir, freeBytes: s.bavail * s.bsize, minFreeBytes: this.minFreeBytes };
    } catch (err) {
      spaceError = (err as Error).message;
    }
    return decideReadiness({ backend: 'sqlite', readError, lastWrite: this.lastWrite, fault: this.fault, space, spaceError }, this.clock.now());
  }

  /** Writes a consistent copy of the database to `destPath` (SQLite online backup). */
  async backup(destPath: string): Promise<void> {
    this.assertOpen();
    await this.db.backup(destPath);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compactTimer) this.clock.clearTimeout(this.compactTimer);
    if (this.probeTimer) this.clock.clearTimeout(this.probeTimer);
    await this.compaction.catch(() => undefined);
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const w of watchers) this.fail(w, new TriremeError('StoreClosed', 'store is closed'));
    this.db.close();
  }

  // --- writes ---

  private assertOpen(): void {
    if (this.closed) throw new TriremeError('StoreClosed', 'store is closed');
  }

  /**
   * Runs `fn` as one transaction and records its outcome for readiness; SQLite failures become
   * TriremeErrors (sqliteError), ours pass through. A failure starts the write probe.
   */
  private write(fn: () => void): void {
    try {
      this.guard(() => this.tx(fn));
    } catch (err) {
      this.writeFailed(err);
      throw err;
    }
    this.lastWrite = { ok: true, at: this.clock.now() };
  }

  private writeFailed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const first = this.lastWrite?.ok !== false;
    this.lastWrite = { ok: false, at: this.clock.now(), error: message };
    // Logged once per run of failures; the probe logs the recovery.
    if (first) this.log.error({ err }, 'store write failed; not ready until a write succeeds');
    if (!this.probeTimer && !this.closed) {
      this.probeTimer = this.clock.setTimeout(() => this.probe(), this.probeIntervalMs);
    }
  }

  /**
   * After a failed write: checkpoint the WAL into the database file (which needs room for
   * everything committed so far) and commit one small row. Success ends the failure; otherwise
   * the next probe follows in `probeIntervalMs`.
   */
  private probe(): void {
    this.probeTimer = undefined;
    if (this.closed || this.lastWrite?.ok !== false) return;
    try {
      const [r] = this.guard(() => this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]);
      if (r && r.busy !== 0) throw new TriremeError('Internal', 'SQLite: WAL checkpoint could not complete (busy)');
      this.write(() => this.stmt.setMeta.run('probe_at', this.clock.now()));
    } catch (err) {
      this.writeFailed(err); // keeps the newest cause, schedules the next probe
      return;
    }
    this.log.info('store write probe succeeded; writes work again');
  }

  /** The revision and compact revision the database file holds. */
  private storedRevision(): { rev: number; compactRev: number } {
    const maxLog = (this.stmt.maxRev.get() as { m: number | null }).m ?? 0;
    const compactRev = (this.stmt.getMeta.get('compact_revision') as { value: number } | undefined)?.value ?? 0;
    return { rev: Math.max(maxLog, compactRev), compactRev };
  }

  /**
   * Group commit: writes that arrive in the same turn of the event loop share one transaction,
   * so one fsync acknowledges them all. Each write's checks run before it touches the database,
   * so a write refused (Conflict, NotFound, AlreadyExists) leaves nothing behind and the others
   * in the batch still commit. Every promise resolves only after the commit; events are
   * published after the commit, in revision order.
   */
  private groupCommit<T>(op: () => { result: T; event: StoreEvent }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushWrites());
      }
    });
  }

  private flushWrites(): void {
    this.flushScheduled = false;
    const batch = this.pendingWrites.splice(0);
    if (batch.length === 0) return;
    if (this.closed) {
      for (const w of batch) w.reject(new TriremeError('StoreClosed', 'store is closed'));
      return;
    }
    const startRev = this.rev;
    const outcomes: ({ ok: true; result: unknown; event: StoreEvent } | { ok: false; err: unknown })[] = [];
    try {
      this.write(() => {
        for (const w of batch) {
          try {
            const { result, event } = w.op();
            outcomes.push({ ok: true, result, event });
          } catch (err) {
            // Our own refusals happen before any statement of that write ran: keep the batch.
            if (!(err instanceof TriremeError)) throw err;
            outcomes.push({ ok: false, err });
          }
        }
      });
    } catch (err) {
      this.rev = startRev; // the whole transaction rolled back
      this.checkRolledBack(startRev);
      for (const w of batch) w.reject(err);
      return;
    }
    outcomes.forEach((o, i) => {
      if (o.ok) {
        this.publish(o.event);
        batch[i]!.resolve(o.result);
      } else {
        batch[i]!.reject(o.err);
      }
    });
  }

  /**
   * A failed batch must have left nothing: if the database shows revisions past `startRev`
   * anyway (a commit whose fsync failed after its frames were written), acknowledged state and
   * the file disagree, which only a restart (reload from the file) resolves.
   */
  private checkRolledBack(startRev: number): void {
    let stored: number;
    try {
      stored = this.guard(() => this.storedRevision()).rev;
    } catch (err) {
      this.log.error({ err }, 'cannot read the revision back after a failed write');
      return;
    }
    if (stored === startRev) return;
    this.rev = Math.max(this.rev, stored); // never hand out a revision the file already holds
    this.fault = `a failed commit is visible in the database (revision ${stored}, expected ${startRev}); restart the server`;
    this.log.error({ stored, expected: startRev }, this.fault);
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const e = sqliteError(err);
      const code = e.context.sqliteCode;
      if (typeof code === 'string' && CORRUPT_CODES.has(code) && this.fault === undefined) {
        this.fault = `the database file is damaged (${e.message}); restore it from a backup`;
        this.log.error({ err }, this.fault);
      }
      throw e;
    }
  }

  /**
   * A write's guard, checked when the write applies: inside the batch's transaction, after the
   * writes before it in the batch (one of which may have changed the guard key), so nothing can
   * change the key between this check and the write.
   */
  private checkGuard(opts: WriteOpts | undefined): void {
    const g = opts?.guard;
    if (!g) return;
    const actual = (this.stmt.get.get(g.key) as KvRow | undefined)?.mod_revision ?? 0;
    if (actual !== g.modRevision) throw guardFailed(g, actual);
  }

  /** The current value of `key`, checked against the expected mod revision. */
  private current(key: string, expected: number | undefined): KeyValue {
    const r = this.stmt.get.get(key) as KvRow | undefined;
    if (!r) throw new TriremeError('NotFound', `key ${key} not found`, { context: { key } });
    if (expected !== undefined && r.mod_revision !== expected) {
      throw new TriremeError('Conflict', `key ${key} changed: expected revision ${expected}, found ${r.mod_revision}`, {
        context: { key, expected, actual: r.mod_revision },
      });
    }
    return toKv(r);
  }

  // --- compaction ---

  private scheduleAutoCompaction(): void {
    this.compactTimer = this.clock.setTimeout(() => {
      if (this.closed) return;
      const target = this.rev - this.historyLimit;
      if (target > this.compactRev) {
        this.enqueueCompaction(target).catch((err: unknown) => this.log.error({ err }, 'automatic compaction failed'));
      }
      this.scheduleAutoCompaction();
    }, this.compactIntervalMs);
  }

  private enqueueCompaction(target: number): Promise<void> {
    const run = this.compaction.catch(() => undefined).then(() => this.compactTo(target));
    this.compaction = run;
    return run;
  }

  /** Deletes log rows up to `target` in chunks, recording the compact revision with each chunk. */
  private async compactTo(target: number): Promise<void> {
    while (!this.closed && this.compactRev < target) {
      const upTo = Math.min(target, this.compactRev + COMPACT_CHUNK);
      this.write(() => {
        this.stmt.deleteLog.run(upTo);
        this.stmt.setMeta.run('compact_revision', upTo);
      });
      this.compactRev = upTo;
      // Let writers and watchers run between chunks.
      if (upTo < target) await new Promise((r) => setImmediate(r));
    }
    this.log.debug({ compactRevision: this.compactRev }, 'compacted');
  }

  // --- watch delivery ---

  /** Called after a committed write: queue the event for live watchers, deliver later. */
  private publish(ev: StoreEvent): void {
    const rev = eventRevision(ev);
    const key = ev.type === 'put' ? ev.kv.key : ev.key;
    let any = false;
    for (const w of this.watchers) {
      if (!w.live || rev <= w.cursor || !matches(w, key)) continue;
      w.queue.push(ev);
      any = true;
      if (w.queue.length - w.queueHead > this.maxWatcherQueue) {
        // Too slow: forget the queue and read the same events from the log instead.
        const first = w.queue[w.queueHead];
        w.cursor = first ? eventRevision(first) - 1 : w.cursor;
        w.queue = [];
        w.queueHead = 0;
        w.live = false;
        this.log.warn({ prefix: w.prefix, cursor: w.cursor }, 'watcher fell behind, catching up from the log');
      }
    }
    if (any) this.scheduleDispatch();
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    let more = false;
    for (const w of [...this.watchers]) {
      if (w.done) continue;
      if (!w.live) this.replayBatch(w);
      else this.deliverQueued(w);
      if (!w.done && (!w.live || w.queueHead < w.queue.length)) more = true;
    }
    if (more) this.scheduleDispatch();
  }

  private deliverQueued(w: Watcher): void {
    for (let n = 0; n < DELIVERY_BATCH && !w.done && w.live && w.queueHead < w.queue.length; n++) {
      const ev = w.queue[w.queueHead++] as StoreEvent;
      this.deliver(w, ev);
    }
    if (w.queueHead >= w.queue.length) {
      w.queue = [];
      w.queueHead = 0;
    }
  }

  /** Reads the next events of a catching-up watcher from the log; goes live once at the head. */
  private replayBatch(w: Watcher): void {
    if (w.cursor < this.compactRev) {
      this.fail(w, new TriremeError('Gone', `revision ${w.cursor} has been compacted (compact revision ${this.compactRev})`, {
        context: { compactRevision: this.compactRev },
      }));
      return;
    }
    const head = this.rev;
    let rows: LogRow[];
    try {
      rows = this.guard(() => this.stmt.replay.all(w.cursor, head, w.prefix, w.end ?? null, w.end ?? null, DELIVERY_BATCH) as LogRow[]);
    } catch (err) {
      this.fail(w, err as TriremeError);
      return;
    }
    for (const r of rows) {
      if (w.done) return;
      this.deliver(w, logRowToEvent(r));
    }
    if (w.done) return;
    // A short batch means every matching row up to `head` has been seen.
    if (rows.length < DELIVERY_BATCH) w.cursor = Math.max(w.cursor, head);
    // Handlers may have written meanwhile (synchronously); those events are in the log, not queued.
    if (w.cursor >= this.rev) w.live = true;
  }

  private deliver(w: Watcher, ev: StoreEvent): void {
    w.cursor = eventRevision(ev);
    try {
      w.handler.onEvent(ev);
    } catch (err) {
      this.log.error({ err, prefix: w.prefix }, 'watch handler threw; ending its watch');
      this.fail(w, new TriremeError('Internal', `watch handler threw: ${(err as Error).message}`, { cause: err }));
    }
  }

  /** Ends a watch with an error, reported at most once. */
  private fail(w: Watcher, err: Error): void {
    if (w.done) return;
    w.done = true;
    this.watchers.delete(w);
    try {
      w.handler.onError(err);
    } catch (e) {
      this.log.error({ err: e }, 'watch error handler threw');
    }
  }
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare('SELECT key, value, create_revision, mod_revision FROM kv WHERE key = ?'),
    list: db.prepare('SELECT key, value, create_revision, mod_revision FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
    listAll: db.prepare('SELECT key, value, create_revision, mod_revision FROM kv WHERE key >= ? ORDER BY key'),
    upsertKv: db.prepare(
      'INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT(key) DO UPDATE SET value = excluded.value, create_revision = excluded.create_revision, mod_revision = excluded.mod_revision',
    ),
    deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
    insertLog: db.prepare('INSERT INTO log (rev, key, deleted, value, create_rev, prev_rev) VALUES (?, ?, ?, ?, ?, ?)'),
    deleteLog: db.prepare('DELETE FROM log WHERE rev <= ?'),
    maxRev: db.prepare('SELECT max(rev) AS m FROM log'),
    replay: db.prepare(
      'SELECT l.rev, l.key, l.deleted, l.value, l.create_rev, l.prev_rev, p.value AS p_value, p.create_rev AS p_create_rev ' +
        'FROM log l LEFT JOIN log p ON p.rev = l.prev_rev AND p.deleted = 0 ' +
        'WHERE l.rev > ? AND l.rev <= ? AND l.key >= ? AND (? IS NULL OR l.key < ?) ORDER BY l.rev LIMIT ?',
    ),
    getMeta: db.prepare('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
  };
}
