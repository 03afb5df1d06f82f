// EtcdStore: the HA Store backend (DESIGN.md §3, docs/storage.md) over the etcd v3 API with the
// `etcd3` client.
//
// Guarantees, beyond the Store contract in store.ts:
// - Revisions are etcd's: a key's modRevision is its etcd mod_revision, every write is one etcd
//   transaction whose compare makes create/update/delete atomic (compare-and-swap on
//   create_revision or mod_revision). A resolved write is committed by the etcd quorum. A write
//   guard is one more compare in that same transaction (mod_revision of the guard key).
// - Keys live under `prefix` in etcd; callers never see it.
// - A watch resumes by itself after a lost connection from the last revision it delivered, and
//   drops anything at or below it, so events arrive in order and exactly once. etcd's progress
//   notifications (when the member runs with --experimental-watch-progress-notify-interval)
//   reach the handler's `onProgress`: everything up to that revision was delivered. A watch whose
//   resume point was compacted ends with `Gone` (we compare with the compact revision
//   ourselves: the client reports only "Watcher canceled").
// - Calls (docs/storage.md, "Quorum loss"): every store call has one budget, `requestTimeoutMs`
//   (default 10 s), and fails by then; each attempt of a read has its own deadline (at most 4 s)
//   and a write's attempt the rest of the budget; every call carries
//   etcd's require-leader metadata, so a member without a leader refuses at once instead of
//   holding the call for etcd's 7 s request timeout. Reads (and compaction) retry any transient
//   failure; writes retry only failures that prove nothing was proposed (no member admitted the
//   call, "no leader", a call that never reached a member). Out of budget: `NoQuorum` (503,
//   "the store has no quorum", nothing written). A write unanswered for 750 ms, or whose fate
//   is unknown (timed out or dropped after it reached a member), is settled: a put of the
//   barrier key that every write compares makes it unable to apply later, and the key read back
//   says whether it applied (acknowledged), did not (sent again) or cannot tell (write-settle.ts).
//   One that cannot be settled (no barrier commits: no quorum) fails with `Timeout` (504) saying
//   it may have been written: etcd may still commit it, even after quorum returns.
// - A member that fails a call, or leaves one unanswered for 1.5 s and then fails a probe, gets
//   no more calls until it answers a status probe and knows a leader (etcd-host-gate.ts); gRPC keepalive (5 s, 2 s timeout) notices a member that vanished
//   without closing its connections. An exhausted space quota is neither retried nor counted.
// - Readiness (`readiness()`), answered within about 2 s: a linearizable (quorum) read, etcd's
//   alarm list (NOSPACE, CORRUPT), and the outcome of the last write; while that write failed,
//   each check also sends a write probe (a transaction whose compare is always false, so it goes
//   through raft and the space quota but changes nothing and uses no revision). A write refused
//   because etcd's space quota is exhausted is `InsufficientStorage`.
// Not guaranteed / not supported:
// - A settled write is told from others' by its value only: etcd has no idempotency keys
//   (write-settle.ts says what that leaves open). The key WRITE_BARRIER_KEY is reserved.
// - Values must be valid UTF-8 strings (etcd stores bytes; lone surrogates do not round-trip).
// - compactRevision() is learned by probing ranges at past revisions (binary search, a few
//   cheap RPCs); it cannot distinguish "never compacted" from "compacted at revision 1",
//   which hold the same history (revision 1 has no events). It reports 0 for both.
// - Multi-key etcd transactions written by someone else under the prefix (several events at one
//   revision) are not supported by the exactly-once filter; this store never writes them.
import { InterceptingCall, type CallOptions, type Interceptor } from '@grpc/grpc-js';
import { isBrokenCircuitError, noop } from 'cockatiel';
import { CompareResult, CompareTarget, Etcd3, GRPCDeadlineExceededError, GRPCUnavailableError, GRPCResourceExhastedError, isRecoverableError, type IKeyValue, type IOptions, type IRequestOp, type IResponseHeader, type ITxnResponse, type Watcher } from 'etcd3';
import { TriremeError, type ErrorCode } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { AbandonedCallError, createHostGate, type HostGate } from './etcd-host-gate.js';
import { decideReadiness, type StoreReadiness, type WriteOutcome } from './readiness.js';
import { settleWrite, type PendingWrite, type SeenKey } from './write-settle.js';
import { guardFailed, type KeyValue, type ListResult, type Store, type StoreEvent, type StoreWatch, type WatchHandler, type WriteGuard, type WriteOpts } from './store.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. */
  endpoints: string[];
  /** Key namespace inside etcd (default ''). */
  prefix?: string;
  logger?: Logger;
  clock?: Clock;
  /** TLS with a client certificate (https:// endpoints), e.g. a managed member's `clientTls`. */
  tls?: { caPem: string; certPem: string; keyPem: string };
  /** Budget of one store call, retries included (default 10 s): it fails by then. */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Deadline of one attempt of a read, capped by what is left of the budget (a write's is the budget). */
const ATTEMPT_DEADLINE_MS = 4_000;
/** No attempt starts with less budget left: it could only end with an unknown outcome. */
const MIN_ATTEMPT_MS = 1_000;
/** Pauses between attempts: 50 ms, doubling up to 400 ms. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 400;
/** Budget of a readiness check's calls, retries included (readiness must answer quickly). */
const READINESS_DEADLINE_MS = 2_000;
/**
 * gRPC keepalive: a ping after 5 s without traffic on a connection that carries calls, dropped
 * 2 s later unanswered. 5 s is the fastest etcd accepts by default (--grpc-keepalive-min-time);
 * and etcd refuses pings on connections without calls (too_many_pings GOAWAY), so they are off.
 */
const KEEPALIVE_TIME_MS = 5_000;
const KEEPALIVE_TIMEOUT_MS = 2_000;
/** Deadline of a gated member's status probe. */
const PROBE_DEADLINE_MS = 1_000;
/**
 * The store key every write compares (its mod_revision) and a barrier puts (write-settle.ts).
 * Reserved: callers must not use it.
 */
export const WRITE_BARRIER_KEY = '/trireme/write-barrier';
/**
 * A write unanswered this long is settled through a barrier instead of waiting for etcd's own
 * request timeout (about 7 s when it was forwarded to a leader that died). Well above a healthy
 * write's latency, and below etcd's re-election time, so that the barrier commits as soon as a
 * new leader is there.
 */
const SETTLE_AFTER_MS = 750;
/** Deadline of one barrier put. */
const BARRIER_ATTEMPT_MS = 2_000;
/** While no barrier put is answered, another goes out this often, at most this many in flight. */
const BARRIER_EVERY_MS = 150;
const BARRIER_MAX_IN_FLIGHT = 8;
/** A write refused because another server's barrier moved is sent again at most this often. */
const MAX_BARRIER_RETRIES = 5;

/** etcd's require-leader metadata (clientv3.WithRequireLeader): a member without a leader refuses at once. */
const requireLeader: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('hasleader', 'true');
      next(metadata, listener);
    },
  });
/** Keys per page when listing, so that no response exceeds gRPC's message limit. */
const LIST_PAGE = 500;
/** Pause before a watch re-subscribes after its stream broke. */
const WATCH_RESUME_MS = 100;
/** A watch that cannot re-subscribe for this long ends with ServiceUnavailable. */
const WATCH_GIVE_UP_MS = 30_000;

/** The least byte string above every key starting with `p`; [0] (= "to the end") if none. */
export function bytePrefixEnd(p: Buffer): Buffer {
  const end = Buffer.from(p);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0xff) < 0xff) {
      end[i] = (end[i] ?? 0) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/**
 * Failures the client retries and counts against a host's breaker: etcd3's recoverable ones
 * except an exhausted space quota, where the host is fine and a retry cannot help (counting it
 * would open the breaker and fail reads too).
 */
function retriable(err: Error): boolean {
  return isRecoverableError(err) && !(err instanceof GRPCResourceExhastedError);
}

/**
 * Whether a failed call certainly proposed nothing, so that a write may be retried: no member
 * admitted it, a member refused it before proposing (no leader, too many requests), raft
 * dropped it, or it never reached a member (a deadline while waiting for a connection: grpc-js
 * names the remote address once a call was sent). Anything else transient -- etcd's "request
 * timed out", a deadline after sending, a dropped connection -- may have been proposed, and a
 * proposal can commit later, even after the client gave up.
 */
export function provablyNotApplied(err: Error): boolean {
  if (err instanceof NotAppliedError) return true;
  if (err instanceof AbandonedCallError || err instanceof UnsettledWriteError) return false;
  if (isBrokenCircuitError(err)) return true;
  const m = err.message;
  if (/etcdserver: (no leader|not capable|too many requests)|raft proposal dropped/.test(m)) return true;
  if (err instanceof GRPCDeadlineExceededError) return !/remote_addr=/.test(m);
  return /No connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|Failed to connect/.test(m);
}

/** A settled write that had not been applied (write-settle.ts): safe to send again. */
export class NotAppliedError extends Error {}
/** A write whose outcome a barrier and read-back could not settle: still unknown. */
export class UnsettledWriteError extends GRPCUnavailableError {}

/** Refusals: etcd answered, the store is fine. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set(['AlreadyExists', 'Conflict', 'NotFound', 'BadRequest']);

function isCompactedError(err: unknown): boolean {
  return err instanceof Error && /required revision has been compacted/.test(err.message);
}

function rev(header: IResponseHeader | undefined | null): number {
  return Number(header?.revision ?? 0);
}

interface EtcdWatch {
  prefix: string;
  handler: WatchHandler;
  /** Every event at or below it has been delivered. */
  cursor: number;
  watcher: Watcher | undefined;
  resumeTimer: Timer | undefined;
  /** When the current run of failed (re)subscriptions began; undefined while healthy. */
  failingSince: number | undefined;
  done: boolean;
}

export class EtcdStore implements Store {
  /** Several API servers write one etcd: readers confirm the current revision (store.ts). */
  readonly shared = true;
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private closed = false;
  private knownCompactRev = 0;
  private readonly watches = new Set<EtcdWatch>();
  private lastWrite: WriteOutcome | undefined;
  private readonly requestTimeoutMs: number;
  private readonly gates = new Map<string, HostGate>();
  private readonly probeClients: Etcd3[] = [];
  /** The barrier key's mod_revision as last seen (0: absent); every write compares it. */
  private barrierRev = 0;
  /** The barrier put in progress, shared by the writes that wait on it. */
  private barrier: Promise<void> | undefined;

  private constructor(opts: EtcdStoreOptions) {
    this.prefix = opts.prefix ?? '';
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const base = (hosts: string[]): IOptions => ({
      hosts,
      ...(opts.tls === undefined ? {} : {
        credentials: { rootCertificate: Buffer.from(opts.tls.caPem), certChain: Buffer.from(opts.tls.certPem), privateKey: Buffer.from(opts.tls.keyPem) },
      }),
      // Fallback per attempt (call() passes its own), and never on streams (a deadline would end every watch).
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ATTEMPT_DEADLINE_MS }),
      grpcOptions: {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
        'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
        interceptors: [requireLeader],
      },
    });
    this.client = new Etcd3({
      ...base(opts.endpoints),
      // Retries are call()'s: only it knows whether a failed write may have been applied.
      faultHandling: { host: (host) => this.gateOf(host, base([host])).policy, global: noop },
    });
  }

  /** The admission gate of one member, probing it through a client of its own. */
  private gateOf(host: string, options: IOptions): HostGate {
    const known = this.gates.get(host);
    if (known) return known;
    let probeClient: Etcd3 | undefined;
    const gate = createHostGate({
      host,
      clock: this.clock,
      logger: this.log,
      counts: retriable,
      probeDeadlineMs: PROBE_DEADLINE_MS,
      probe: async (deadlineMs) => {
        if (!probeClient) {
          probeClient = new Etcd3({ ...options, faultHandling: { host: () => noop, global: noop } });
          this.probeClients.push(probeClient);
        }
        await probeClient.maintenance.status({ deadline: Date.now() + deadlineMs });
      },
    });
    this.gates.set(host, gate);
    return gate;
  }

  static open(opts: EtcdStoreOptions): EtcdStore {
    if (opts.endpoints.length === 0) throw new TriremeError('BadRequest', 'etcd store needs at least one endpoint');
    return new EtcdStore(opts);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call(`get ${key}`, 'read', (o) => this.client.kv.range({ key: this.k(key) }, o));
    const kv = res.kvs[0];
    return kv && this.toKv(kv);
  }

  async list(prefix: string): Promise<ListResult> {
    const { start, end } = this.range(prefix);
    const items: KeyValue[] = [];
    let from = start;
    let at = 0;
    // Pages read at the revision of the first, so the whole list is one consistent snapshot.
    for (;;) {
      const res = await this.call(`list ${prefix}`, 'read', (o) =>
        this.client.kv.range({ key: from, range_end: end, limit: LIST_PAGE, ...(at ? { revision: at } : {}) }, o),
      );
      if (!at) at = rev(res.header);
      for (const kv of res.kvs) items.push(this.toKv(kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return { items, revision: at };
  }

  async create(key: string, value: string, opts?: WriteOpts): Promise<KeyValue> {
    return this.recorded(() => this.createKey(key, value, opts?.guard));
  }

  async update(key: string, value: string, expectedModRevision?: number, opts?: WriteOpts): Promise<KeyValue> {
    return this.recorded(() => this.updateKey(key, value, expectedModRevision, opts?.guard));
  }

  async delete(key: string, expectedModRevision?: number, opts?: WriteOpts): Promise<{ prev: KeyValue; revision: number }> {
    return this.recorded(() => this.deleteKey(key, expectedModRevision, opts?.guard));
  }

  private async createKey(key: string, value: string, guard: WriteGuard | undefined): Promise<KeyValue> {
    const k = this.k(key);
    const out = await this.settledWrite(`creation of ${key}`, key, { op: 'create', value }, (barrier, o) =>
      this.client.kv.txn({
        compare: [{ key: k, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }, ...this.guardCompare(guard), this.barrierCompare(barrier)],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [...this.guardRead(guard), this.barrierRead()],
      }, o),
    );
    if ('seen' in out) return { key, ...out.seen };
    const res = out.res;
    if (!res.succeeded) {
      this.throwIfGuardFailed(guard, res.responses[0]?.response_range.kvs[0]);
      throw new TriremeError('AlreadyExists', `key ${key} already exists`, { context: { key } });
    }
    const r = rev(res.header);
    return { key, value, createRevision: r, modRevision: r };
  }

  private async updateKey(key: string, value: string, expectedModRevision: number | undefined, guard: WriteGuard | undefined): Promise<KeyValue> {
    const k = this.k(key);
    const out = await this.guarded(key, expectedModRevision, guard, { op: 'update', value, expected: expectedModRevision }, { request_put: { key: k, value: Buffer.from(value), prev_kv: true } });
    if ('seen' in out) return { key, ...out.seen };
    const prev = out.res.responses[0]?.response_put.prev_kv;
    if (!prev) throw new TriremeError('Internal', `etcd returned no previous value for ${key}`, { context: { key } });
    const r = rev(out.res.header);
    return { key, value, createRevision: Number(prev.create_revision), modRevision: r };
  }

  private async deleteKey(key: string, expectedModRevision: number | undefined, guard: WriteGuard | undefined): Promise<{ prev: KeyValue; revision: number }> {
    const k = this.k(key);
    const out = await this.guarded(key, expectedModRevision, guard, { op: 'delete', expected: expectedModRevision }, { request_delete_range: { key: k, prev_kv: true } });
    // settleWrite never calls a delete applied: its previous value would be unknown.
    if ('seen' in out) throw new TriremeError('Internal', `a delete of ${key} was settled as applied`, { context: { key } });
    const prev = out.res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new TriremeError('Internal', `etcd returned no deleted value for ${key}`, { context: { key } });
    return { prev: this.toKv(prev), revision: rev(out.res.header) };
  }

  watch(prefix: string, afterRevision: number, handler: WatchHandler): StoreWatch {
    const w: EtcdWatch = { prefix, handler, cursor: afterRevision, watcher: undefined, resumeTimer: undefined, failingSince: undefined, done: false };
    if (this.closed) {
      setImmediate(() => this.endWatch(w, new TriremeError('StoreClosed', 'store is closed')));
      return { cancel: () => { w.done = true; } };
    }
    this.watches.add(w);
    void this.subscribe(w);
    return { cancel: () => this.stopWatch(w) };
  }

  async currentRevision(): Promise<number> {
    const res = await this.call('the current revision', 'read', (o) => this.client.kv.range({ key: this.probeKey(), count_only: true }, o));
    return rev(res.header);
  }

  async changesSince(prefix: string, after: number): Promise<{ revision: number; count: number; writtenAfter: boolean }> {
    const { start, end } = this.range(prefix);
    // One read-only transaction: both ranges at one revision, linearizable (not serializable).
    // etcd filters min_mod_revision before it applies the limit.
    // A transaction of reads only: nothing to apply, so it retries like a read.
    const res = await this.call(`changes under ${prefix} since ${after}`, 'read', (o) => this.client.kv.txn({
      compare: [],
      success: [
        { request_range: { key: start, range_end: end, min_mod_revision: after + 1, keys_only: true, limit: 1 } },
        { request_range: { key: start, range_end: end, count_only: true } },
      ],
    }, o));
    const written = res.responses[0]?.response_range.kvs.length ?? 0;
    return { revision: rev(res.header), count: Number(res.responses[1]?.response_range.count ?? 0), writtenAfter: written > 0 };
  }

  async compact(revision: number): Promise<void> {
    const current = await this.currentRevision();
    if (revision > current) {
      throw new TriremeError('BadRequest', `cannot compact to future revision ${revision} (current ${current})`, { context: { revision, current } });
    }
    if (revision <= this.knownCompactRev) return;
    try {
      // Idempotent: retried like a read.
      await this.call(`compaction to ${revision}`, 'read', (o) => this.client.kv.compact({ revision, physical: true }, o));
    } catch (err) {
      // Someone compacted further already: the goal is met.
      if (!(err instanceof TriremeError && isCompactedError(err.cause))) throw err;
    }
    this.knownCompactRev = Math.max(this.knownCompactRev, revision);
  }

  async compactRevision(): Promise<number> {
    const current = await this.currentRevision();
    // etcd 3.4 does not report its compact revision; a range at revision r fails iff r is below
    // it, so search for the least r that still reads. The compact revision only grows, so the
    // last one we learned bounds the search from below.
    let lo = Math.max(1, this.knownCompactRev);
    let hi = Math.max(lo, current);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.readableAt(mid)) hi = mid;
      else lo = mid + 1;
    }
    const found = lo <= 1 ? this.knownCompactRev : lo;
    this.knownCompactRev = Math.max(this.knownCompactRev, found);
    return this.knownCompactRev;
  }

  async sizeBytes(): Promise<number> {
    const st = await this.call('the member status', 'read', (o) => this.client.maintenance.status(o), READINESS_DEADLINE_MS);
    return Number(st.dbSize);
  }

  async readiness(): Promise<StoreReadiness> {
    if (this.closed) return { ok: false, message: 'etcd: store is closed' };
    // Each call's budget, retries included, is the readiness deadline.
    const [read, alarms] = await Promise.allSettled([
      this.call('a quorum read', 'read', (o) => this.client.kv.range({ key: this.probeKey(), count_only: true }, o), READINESS_DEADLINE_MS),
      this.call('the alarm list', 'read', (o) => this.client.maintenance.alarm({ action: 'Get', alarm: 'None', memberID: 0 }, o), READINESS_DEADLINE_MS),
    ]);
    if (this.lastWrite?.ok === false && read.status === 'fulfilled') {
      try {
        await this.recorded(() => this.call('a write probe', 'write', (o) => this.client.kv.txn({
          compare: [{ key: this.probeKey(), target: CompareTarget.Create, result: CompareResult.Less, create_revision: 0 }],
          success: [{ request_put: { key: this.probeKey(), value: Buffer.alloc(0) } }],
        }, o), READINESS_DEADLINE_MS));
        this.log.info('etcd store: write probe succeeded; writes work again');
      } catch {
        // recorded() kept the cause in lastWrite; the next check probes again.
      }
    }
    return decideReadiness({
      backend: 'etcd',
      readError: read.status === 'rejected' ? (read.reason as Error).message : undefined,
      alarms: alarms.status === 'fulfilled' ? alarms.value.alarms.map((a) => `${a.alarm.toUpperCase()} on member ${a.memberID}`) : undefined,
      // When the read failed too, the alarm call's failure says nothing new.
      alarmError: alarms.status === 'rejected' && read.status === 'fulfilled' ? (alarms.reason as Error).message : undefined,
      lastWrite: this.lastWrite,
    }, this.clock.now());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watches = [...this.watches];
    this.watches.clear();
    for (const w of watches) this.endWatch(w, new TriremeError('StoreClosed', 'store is closed'));
    this.client.close();
    for (const g of this.gates.values()) g.close();
    for (const c of this.probeClients) c.close();
  }

  // --- helpers ---

  /** The etcd key of a store key. */
  private k(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  /** The etcd key range holding every store key with `prefix` (etcd has no empty key: [0] is the least). */
  private range(prefix: string): { start: Buffer; end: Buffer } {
    const start = this.k(prefix);
    return { start: start.length > 0 ? start : Buffer.from([0]), end: bytePrefixEnd(start) };
  }

  /** Some key to range over when only the response header matters. */
  private probeKey(): Buffer {
    return this.prefix ? this.k('') : Buffer.from([0]);
  }

  private toKv(kv: IKeyValue): KeyValue {
    return {
      key: kv.key.toString('utf8').slice(this.prefix.length),
      value: kv.value.toString('utf8'),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  /**
   * A write on an existing key: `op` runs only if the key exists (and has `expected` as its mod
   * revision, when given); otherwise the failure branch reads the key to tell NotFound from
   * Conflict.
   */
  private async guarded(key: string, expected: number | undefined, guard: WriteGuard | undefined, pending: PendingWrite, op: IRequestOp): Promise<{ res: ITxnResponse } | { seen: SeenKey }> {
    const k = this.k(key);
    const compare =
      expected === undefined
        ? { key: k, target: CompareTarget.Create, result: CompareResult.Greater, create_revision: 0 }
        : { key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: expected };
    const what = `${op.request_delete_range ? 'delete' : 'update'} of ${key}`;
    const out = await this.settledWrite(what, key, pending, (barrier, o) =>
      this.client.kv.txn({
        compare: [compare, ...this.guardCompare(guard), this.barrierCompare(barrier)],
        success: [op],
        failure: [...this.guardRead(guard), { request_range: { key: k } }, this.barrierRead()],
      }, o),
    );
    if ('seen' in out || out.res.succeeded) return out;
    const res = out.res;
    this.throwIfGuardFailed(guard, res.responses[0]?.response_range.kvs[0]);
    const actual = res.responses[guard ? 1 : 0]?.response_range.kvs[0];
    if (!actual) throw new TriremeError('NotFound', `key ${key} not found`, { context: { key } });
    throw new TriremeError('Conflict', `key ${key} was modified (expected revision ${expected}, actual ${actual.mod_revision})`, {
      context: { key, expected, actual: Number(actual.mod_revision) },
    });
  }

  /** The compare every write carries: the barrier key is where it was when the write was sent. */
  private barrierCompare(barrier: number) {
    return { key: this.k(WRITE_BARRIER_KEY), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: barrier };
  }

  /** The failure branch's read of the barrier key, always the last response. */
  private barrierRead(): IRequestOp {
    return { request_range: { key: this.k(WRITE_BARRIER_KEY) } };
  }

  /**
   * One write transaction, sent again while it failed only because the barrier key had moved
   * (nothing applied: its compare failed), and settled through a barrier when its answer does
   * not come (see `call`). Returns the transaction's response, or what a settled write left.
   */
  private async settledWrite(what: string, key: string, pending: PendingWrite, txn: (barrier: number, o: CallOptions) => Promise<ITxnResponse>): Promise<{ res: ITxnResponse } | { seen: SeenKey }> {
    for (let tries = 0; ; tries++) {
      const out = await this.call(what, 'write', async (o) => {
        const barrier = this.barrierRev;
        const settled = await this.settle(what, key, pending, barrier, txn(barrier, o), o.deadline as number);
        return { settled, barrier };
      });
      const { settled, barrier } = out;
      if ('seen' in settled) return settled;
      if (!settled.succeeded) {
        const seen = settled.responses.at(-1)?.response_range.kvs[0];
        const now = seen ? Number(seen.mod_revision) : 0;
        if (now !== barrier) {
          this.barrierRev = Math.max(this.barrierRev, now);
          if (tries < MAX_BARRIER_RETRIES) continue;
        }
      }
      return { res: settled };
    }
  }

  /**
   * Waits for a write's answer; when none comes within SETTLE_AFTER_MS, or the answer is that
   * its outcome is unknown, moves the barrier and reads the key back (write-settle.ts): the
   * write is then applied (its answer late or lost), not applied (NotAppliedError: `call`
   * sends it again) or still unknown (UnsettledWriteError: `call` reports a Timeout). A write
   * that fails plainly fails as before.
   */
  private async settle(what: string, key: string, pending: PendingWrite, barrier: number, attempt: Promise<ITxnResponse>, deadline: number): Promise<ITxnResponse | { seen: SeenKey }> {
    type Outcome = { ok: true; res: ITxnResponse } | { ok: false; err: Error };
    const answer: Promise<Outcome> = attempt.then((res) => ({ ok: true as const, res }), (e: unknown) => ({ ok: false as const, err: e instanceof Error ? e : new Error(String(e)) }));
    let timer: Timer | undefined;
    const slow = new Promise<undefined>((r) => (timer = this.clock.setTimeout(() => r(undefined), SETTLE_AFTER_MS)));
    const first = await Promise.race([answer, slow]);
    if (timer) this.clock.clearTimeout(timer);
    if (first?.ok) return first.res;
    if (first && (provablyNotApplied(first.err) || !retriable(first.err))) throw first.err;
    const why = first ? first.err.message : `no answer within ${SETTLE_AFTER_MS} ms`;
    this.log.info({ key, why }, 'etcd store: write unconfirmed; settling it through a write barrier');
    const raised = this.raiseBarrier(barrier, deadline).then(() => undefined, (e: unknown) => e as Error);
    // A late answer wins if it is a success; a late failure says nothing the barrier will not,
    // so it waits for the barrier's outcome instead (undefined: raised, an Error: not raised).
    const late = answer.then<{ res: ITxnResponse } | Error | undefined>((o) => (o.ok ? { res: o.res } : raised));
    const next = await Promise.race([late, raised]);
    if (next !== undefined && !(next instanceof Error)) return next.res;
    if (next) throw new UnsettledWriteError(`the ${what} got no answer (${why}) and no write barrier could be committed (${next.message})`);
    const read = await this.call(`a read-back of ${key}`, 'read', (o) => this.client.kv.range({ key: this.k(key) }, o), Math.max(MIN_ATTEMPT_MS, deadline - Date.now()));
    const kv = read.kvs[0];
    const decided = settleWrite(pending, kv && { value: kv.value.toString('utf8'), createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) });
    if (decided.kind === 'applied') {
      this.log.info({ key }, 'etcd store: the unconfirmed write had been applied');
      return { seen: decided.seen };
    }
    if (decided.kind === 'retry') {
      this.log.info({ key }, 'etcd store: the unconfirmed write was not applied; sending it again');
      throw new NotAppliedError(`the ${what} was not applied before a write barrier`);
    }
    throw new UnsettledWriteError(`the ${what} got no answer (${why}); read back after a write barrier, ${decided.why}`);
  }

  /**
   * Resolves once the barrier key is known to have moved past `from` (a put of ours confirmed,
   * or one of another server's seen): no write sent with `from` can apply any more. Puts are
   * shared by the writes waiting at the same time. A put left unanswered (sent to a member that
   * forwards it to a leader that died) is not waited for: another one goes out every 150 ms
   * (at most 8 in flight), so the first member to know the new leader commits one at once.
   * Rejects when `deadline` (Date.now() ms) is near.
   */
  private async raiseBarrier(from: number, deadline: number): Promise<void> {
    while (this.barrierRev === from) {
      this.barrier ??= new Promise<void>((resolve, reject) => {
        let done = false;
        let inFlight = 0;
        let timer: Timer | undefined;
        const finish = (err?: unknown): void => {
          if (done) return;
          done = true;
          if (timer) this.clock.clearTimeout(timer);
          this.barrier = undefined;
          if (err === undefined) resolve();
          else reject(err instanceof Error ? err : new Error(String(err)));
        };
        const send = (): void => {
          if (done) return;
          if (this.closed || deadline - Date.now() < MIN_ATTEMPT_MS) {
            if (inFlight === 0) finish(new TriremeError('StoreClosed', this.closed ? 'store is closed' : 'no budget left for a write barrier'));
            return;
          }
          if (inFlight < BARRIER_MAX_IN_FLIGHT) {
            inFlight++;
            this.client.kv.put({ key: this.k(WRITE_BARRIER_KEY), value: Buffer.alloc(0) }, { deadline: Math.min(deadline, Date.now() + BARRIER_ATTEMPT_MS) }).then(
              (res) => {
                inFlight--;
                this.barrierRev = Math.max(this.barrierRev, rev(res.header));
                finish();
              },
              (e: unknown) => {
                inFlight--;
                if (done) return;
                if (this.closed || deadline - Date.now() < MIN_ATTEMPT_MS) {
                  if (inFlight === 0) finish(e);
                  return;
                }
                // A refusal ("no leader") comes back at once: send the next one soon.
                if (timer) this.clock.clearTimeout(timer);
                timer = this.clock.setTimeout(send, RETRY_FIRST_MS);
              },
            );
          }
          timer = this.clock.setTimeout(send, BARRIER_EVERY_MS);
        };
        send();
      });
      await this.barrier;
    }
  }

  /** The compare a write guard adds to a write's transaction (an absent key has mod_revision 0). */
  private guardCompare(guard: WriteGuard | undefined) {
    return guard ? [{ key: this.k(guard.key), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: guard.modRevision }] : [];
  }

  /** The failure branch's read of the guard key, so a refusal can tell which compare failed. */
  private guardRead(guard: WriteGuard | undefined): IRequestOp[] {
    return guard ? [{ request_range: { key: this.k(guard.key) } }] : [];
  }

  /** After a failed transaction: the guard failed if its key (as read in that transaction) moved. */
  private throwIfGuardFailed(guard: WriteGuard | undefined, seen: IKeyValue | undefined): void {
    if (!guard) return;
    const actual = seen ? Number(seen.mod_revision) : 0;
    if (actual !== guard.modRevision) throw guardFailed(guard, actual);
  }

  /** Runs one write and keeps its outcome for readiness (refusals count as success). */
  private async recorded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.lastWrite = { ok: true, at: this.clock.now() };
      return out;
    } catch (err) {
      if (err instanceof TriremeError && REFUSALS.has(err.code)) {
        this.lastWrite = { ok: true, at: this.clock.now() };
      } else {
        if (this.lastWrite?.ok !== false) this.log.error({ err }, 'etcd store: write failed; not ready until a write succeeds');
        this.lastWrite = { ok: false, at: this.clock.now(), error: err instanceof Error ? err.message : String(err) };
      }
      throw err;
    }
  }

  private async readableAt(revision: number): Promise<boolean> {
    try {
      await this.call(`a read at revision ${revision}`, 'read', (o) => this.client.kv.range({ key: this.probeKey(), revision, count_only: true }, o));
      return true;
    } catch (err) {
      if (err instanceof TriremeError && isCompactedError(err.cause)) return false;
      throw err;
    }
  }

  /**
   * Runs one etcd call within `budgetMs`, retried as its kind allows (see the module comment);
   * its failures become TriremeErrors with the etcd error as `cause`. Deadlines and the budget
   * are wall-clock (gRPC deadlines are dates); the pauses use the injected clock.
   */
  private async call<T>(what: string, kind: 'read' | 'write', fn: (options: CallOptions) => Promise<T>, budgetMs = this.requestTimeoutMs): Promise<T> {
    const end = Date.now() + budgetMs;
    let pause = RETRY_FIRST_MS;
    let last: Error | undefined;
    for (;;) {
      if (this.closed) throw new TriremeError('StoreClosed', 'store is closed', last ? { cause: last } : {});
      try {
        // A write that reached a member is never retried, so it gets the whole budget.
        return await fn({ deadline: kind === 'write' ? end : Math.min(end, Date.now() + ATTEMPT_DEADLINE_MS) });
      } catch (caught) {
        const err = caught instanceof Error ? caught : new Error(String(caught));
        if (this.closed) throw new TriremeError('StoreClosed', 'store is closed', { cause: err });
        const message = `etcd: ${err.message}`;
        if (/database space exceeded/.test(err.message)) {
          throw new TriremeError('InsufficientStorage', `etcd's space quota is exhausted, nothing was written (${message})`, { cause: err });
        }
        const notApplied = provablyNotApplied(err);
        if (!notApplied && !isRecoverableError(err)) throw new TriremeError('Internal', message, { cause: err });
        if (kind === 'write' && !notApplied) {
          throw new TriremeError('Timeout',
            `the store did not confirm the ${what} (${message}); its outcome is unknown: it may have been written, or be written later when the store has quorum again; read it back before retrying`,
            { cause: err, context: { outcomeUnknown: true } });
        }
        // The client's own error says nothing when every member is out: keep the one before.
        if (!isBrokenCircuitError(err) || !last) last = err;
      }
      if (end - Date.now() - pause < MIN_ATTEMPT_MS) break;
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, pause));
      pause = Math.min(2 * pause, RETRY_MAX_MS);
    }
    const out = [...this.gates].flatMap(([host, g]) => {
      const why = g.outBecause();
      return why === undefined ? [] : [`${host}: ${why}`];
    });
    const parts = [...(last && !isBrokenCircuitError(last) ? [`etcd: ${last.message}`] : []), ...(out.length > 0 ? [`members out: ${out.join('; ')}`] : [])];
    const detail = parts.length > 0 ? parts.join('; ') : 'no member admitted a call';
    const seconds = `${Math.round(budgetMs / 100) / 10} s`;
    throw new TriremeError('NoQuorum', kind === 'write'
      ? `the store has no quorum: the ${what} was not written (no etcd member could commit it within ${seconds}: ${detail})`
      : `the store has no quorum: ${what} got no answer within ${seconds} (${detail})`,
    { cause: last, context: { written: false } });
  }

  // --- watches ---

  /**
   * Starts an etcd watcher from the watch's cursor + 1, after checking that the history after
   * the cursor is still there: etcd accepts a watch from the compact revision itself, whose
   * events may be gone (a deletion at it), so we refuse cursor < compact revision ourselves.
   * A range at revision `cursor` fails exactly then. (A compaction between the probe and the
   * watch's creation is caught by etcd's own check, except exactly at cursor + 1.)
   */
  private async subscribe(w: EtcdWatch): Promise<void> {
    if (w.done) return;
    try {
      if (w.cursor > 0 && !(await this.readableAt(w.cursor))) {
        await this.explainCancel(w, new Error('history compacted'));
        return;
      }
    } catch (err) {
      if (w.done) return;
      const since = w.failingSince ?? this.clock.now();
      w.failingSince = since;
      if (this.clock.now() - since >= WATCH_GIVE_UP_MS) {
        this.endWatch(w, err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.scheduleResume(w);
      return;
    }
    if (w.done) return;
    w.failingSince = undefined;
    const watcher = this.client
      .watch()
      .inRange(this.range(w.prefix))
      .withPreviousKV()
      .startRevision(String(w.cursor + 1))
      .watcher();
    w.watcher = watcher;
    watcher.on('data', (res) => {
      if (w.watcher !== watcher || w.done) return;
      if (res.events.length === 0) {
        this.progress(w, rev(res.header));
        return;
      }
      for (const ev of res.events) {
        const r = Number(ev.kv.mod_revision);
        if (r <= w.cursor) continue; // already delivered before a resume
        const event = this.toEvent(ev.type, ev.kv, ev.prev_kv);
        w.cursor = r;
        try {
          w.handler.onEvent(event);
        } catch (err) {
          this.log.warn({ err, prefix: w.prefix }, 'etcd store: watch handler threw; ending its watch');
          this.endWatch(w, err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
    });
    watcher.on('disconnected', (err) => {
      if (w.watcher !== watcher || w.done) return;
      // The client would resume from the newest header revision it saw, which can be past
      // events it never delivered; resume from our own cursor instead.
      this.log.info({ err: err.message, prefix: w.prefix, cursor: w.cursor }, 'etcd store: watch stream lost; resuming');
      w.watcher = undefined;
      void watcher.cancel();
      this.scheduleResume(w);
    });
    watcher.on('error', (err) => {
      if (w.watcher !== watcher || w.done) return;
      w.watcher = undefined;
      void this.explainCancel(w, err);
    });
  }

  /**
   * A response without events is a progress notification (sent every
   * `--experimental-watch-progress-notify-interval` to a watcher that is synced and got no
   * events meanwhile, through the same stream as its events): every event under the prefix up
   * to the header's revision has been delivered. The cursor moves too, so a resume after a
   * lost stream starts there.
   */
  private progress(w: EtcdWatch, revision: number): void {
    if (revision <= w.cursor) return;
    w.cursor = revision;
    try {
      w.handler.onProgress?.(revision);
    } catch (err) {
      this.log.warn({ err, prefix: w.prefix }, 'etcd store: watch handler threw; ending its watch');
      this.endWatch(w, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private scheduleResume(w: EtcdWatch): void {
    w.resumeTimer = this.clock.setTimeout(() => {
      w.resumeTimer = undefined;
      void this.subscribe(w);
    }, WATCH_RESUME_MS);
  }

  /** etcd ended the watch: Gone if its resume point was compacted, else the error as is. */
  private async explainCancel(w: EtcdWatch, err: Error): Promise<void> {
    let compactRevision: number | undefined;
    try {
      compactRevision = await this.compactRevision();
    } catch {
      compactRevision = undefined;
    }
    if (compactRevision !== undefined && w.cursor < compactRevision) {
      this.endWatch(
        w,
        new TriremeError('Gone', `watch from revision ${w.cursor} is compacted (compact revision ${compactRevision})`, {
          context: { compactRevision, revision: w.cursor },
        }),
      );
      return;
    }
    this.endWatch(w, new TriremeError('ServiceUnavailable', `etcd ended the watch: ${err.message}`, { cause: err }));
  }

  private toEvent(type: string, kv: IKeyValue, prevKv: IKeyValue | undefined): StoreEvent {
    const prev = prevKv ? this.toKv(prevKv) : undefined;
    if (type === 'Delete') {
      const key = kv.key.toString('utf8').slice(this.prefix.length);
      const revision = Number(kv.mod_revision);
      // etcd omits prev_kv only if that value was compacted away meanwhile.
      return { type: 'delete', key, revision, prev: prev ?? { key, value: '', createRevision: 0, modRevision: 0 } };
    }
    const cur = this.toKv(kv);
    return prev ? { type: 'put', kv: cur, prev } : { type: 'put', kv: cur };
  }

  private stopWatch(w: EtcdWatch): void {
    if (w.done) return;
    w.done = true;
    this.watches.delete(w);
    if (w.resumeTimer) this.clock.clearTimeout(w.resumeTimer);
    const watcher = w.watcher;
    w.watcher = undefined;
    if (watcher) void watcher.cancel().catch(() => undefined);
  }

  private endWatch(w: EtcdWatch, err: Error): void {
    if (w.done) return;
    this.stopWatch(w);
    w.handler.onError(err);
  }
}
