// Lease-based leader election (DESIGN.md §4), after client-go's tools/leaderelection.
//
// What this does NOT guarantee: that at most one process acts as leader at any instant. A leader
// that is paused, partitioned or slow may go on acting until it notices (at most renewDeadline
// after its last successful renewal, plus however long its in-flight work takes), while another
// candidate has already taken over. Writes fenced with `currentTerm()` (ApiClient.setFence) are
// rejected by the API server once the Lease has moved on, atomically with each write (the store
// write carries a guard on the Lease key), so a deposed leader's late writes never apply; what a
// leader did before it was deposed stands, so its work must still be safe to repeat. It also relies on clocks advancing at roughly the same *rate* everywhere; it
// does not compare clocks across machines.
//
// What it does guarantee: every Lease write is a compare-and-swap on metadata.resourceVersion,
// so two candidates never both win the same write; a candidate takes a Lease held by someone
// else only when the holder has not renewed it for a full lease duration *as measured by the
// candidate's own clock* since it first saw that record (renewTime in the object is written but
// never trusted); a leader gives up (onStoppedLeading('lost')) once it has failed to renew for
// renewDeadline, which is shorter than the lease duration, so in the absence of long pauses it
// stops before anyone else may start. `stop()` can release the Lease so the next candidate
// takes over at its next retry instead of waiting out the lease duration.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { TriremeError } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { ApiClient } from './api-client.js';
import { resource } from './resources.js';
import { microTime } from '../api/time.js';

/** The part of a Lease's spec that election reads and writes. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

/** The last record this elector saw, and when (by its own clock) it first saw it. */
export interface Observation {
  record: LeaseRecord;
  /** resourceVersion of the object: any write makes a new observation. */
  version: string;
  observedTime: number;
}

export type Decision =
  | { kind: 'write'; record: LeaseRecord; transition: boolean }
  | { kind: 'held'; holder: string; expiresAt: number };

export interface ElectionTimings {
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

/**
 * Defaults for a new leader within 3 s of the old one's death, without churn:
 * - A candidate takes over once the record it saw is leaseDuration old, and sees the dead
 *   leader's last renewal at most one retry (+20 % jitter) after it was written, then acts at its
 *   first retry after expiry: worst ≈ lease + 2 × 1.2 × retry = 2 + 0.6 = 2.6 s after a kill -9,
 *   typically ≈ 2.2 s, plus the component's start (its caches sync from the API server).
 *   The Lease's duration is whole seconds (spec.leaseDurationSeconds is int32), so 2, not 2.5.
 * - The leader renews every 0.25 s and gives up only after 1.75 s without one success: seven
 *   attempts, so a slow request or a stall of a second and more on a loaded 2-core machine does
 *   not cost leadership. Its giving up comes 0.25 s before anyone else may take over; that margin
 *   can be small because fencing is atomic with every write (a deposed leader's late writes are
 *   refused however late it notices), so the margin only shortens an overlap that is harmless.
 * - A graceful stop releases the Lease (empty holder), so the next candidate takes it at its
 *   next retry (≤ 0.3 s).
 * Cost: about 8 lease requests per second per elected component on the API server.
 */
export const DEFAULT_ELECTION_TIMINGS: ElectionTimings = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.75, retryPeriodSeconds: 0.25 };

/** The margin client-go keeps between retry period and renew deadline (its jitter factor). */
const JITTER_FACTOR = 1.2;

/** Throws Invalid unless duration > renewDeadline > retryPeriod × 1.2 and the duration is whole seconds. */
export function validateTimings(t: ElectionTimings): void {
  const bad = (msg: string) => new TriremeError('Invalid', `leader election: ${msg}`);
  if (!Number.isInteger(t.leaseDurationSeconds) || t.leaseDurationSeconds < 1) throw bad(`leaseDurationSeconds must be a positive integer, not ${t.leaseDurationSeconds}`);
  if (!(t.retryPeriodSeconds > 0)) throw bad(`retryPeriodSeconds must be positive, not ${t.retryPeriodSeconds}`);
  if (!(t.leaseDurationSeconds > t.renewDeadlineSeconds)) throw bad(`leaseDurationSeconds (${t.leaseDurationSeconds}) must be greater than renewDeadlineSeconds (${t.renewDeadlineSeconds})`);
  if (!(t.renewDeadlineSeconds > t.retryPeriodSeconds * JITTER_FACTOR)) throw bad(`renewDeadlineSeconds (${t.renewDeadlineSeconds}) must be greater than retryPeriodSeconds × ${JITTER_FACTOR} (${t.retryPeriodSeconds * JITTER_FACTOR})`);
}

/** The observation after reading `record` at `version` at time `now`: the clock restarts only when the object changed. */
export function observe(prev: Observation | undefined, record: LeaseRecord, version: string, now: number): Observation {
  if (prev && prev.version === version) return prev;
  return { record, version, observedTime: now };
}

/**
 * What `identity` should do about the Lease it observed (undefined: no Lease yet). Pure.
 * Acquire when the Lease is absent, released (empty holder), already ours, or not renewed for
 * its duration since we first observed its current record; otherwise it is held.
 */
export function decide(obs: Observation | undefined, identity: string, now: number, leaseDurationSeconds: number): Decision {
  const fresh = (transitions: number, acquireTime: string): Decision => ({
    kind: 'write', transition: obs !== undefined && obs.record.holderIdentity !== identity,
    record: { holderIdentity: identity, leaseDurationSeconds, acquireTime, renewTime: microTime(now), leaseTransitions: transitions },
  });
  if (!obs) return fresh(0, microTime(now));
  const r = obs.record;
  if (r.holderIdentity === identity) return fresh(r.leaseTransitions, r.acquireTime ?? microTime(now));
  // The holder's own duration counts (a release writes 1 s), from when *we* first saw the record.
  const expiresAt = obs.observedTime + r.leaseDurationSeconds * 1000;
  if (r.holderIdentity !== '' && now < expiresAt) return { kind: 'held', holder: r.holderIdentity, expiresAt };
  return fresh(r.leaseTransitions + 1, microTime(now));
}

/** The record a leader writes to hand the Lease over at once (client-go's ReleaseOnCancel). */
export function releasedRecord(r: LeaseRecord, now: number): LeaseRecord {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: r.leaseTransitions };
}

export function recordOf(lease: Lease): LeaseRecord {
  const s = lease.spec ?? {};
  const r: LeaseRecord = { holderIdentity: s.holderIdentity ?? '', leaseDurationSeconds: s.leaseDurationSeconds ?? 0, leaseTransitions: s.leaseTransitions ?? 0 };
  if (s.acquireTime) r.acquireTime = s.acquireTime;
  if (s.renewTime) r.renewTime = s.renewTime;
  return r;
}

/** Where the Lease lives. `update` must fail with code Conflict when resourceVersion is stale. */
export interface LeaseAccess {
  get(): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  update(lease: Lease): Promise<Lease>;
}

/** Lease access through the API (coordination.k8s.io/v1). */
export function apiLeaseAccess(client: ApiClient, namespace: string, name: string): LeaseAccess {
  const leases = resource('coordination.k8s.io', 'leases');
  return {
    get: async () => {
      try {
        return await client.get<Lease & { [k: string]: unknown }>(leases, namespace, name);
      } catch (err) {
        if (err instanceof TriremeError && err.code === 'NotFound') return undefined;
        throw err;
      }
    },
    create: (lease) => client.create<Lease & { [k: string]: unknown }>(leases, namespace, { ...lease }),
    update: (lease) => client.update<Lease & { [k: string]: unknown }>(leases, namespace, { ...lease }),
  };
}

export type StopReason = 'lost' | 'stopped';

export interface LeaderCallbacks {
  /** We lead from now on. Not awaited: renewals go on while the caller starts its work. */
  onStartedLeading(): void;
  /** We no longer lead ('lost': renewal failed past the deadline; 'stopped': stop() was called). Awaited before a release. */
  onStoppedLeading(reason: StopReason): void | Promise<void>;
  /** The Lease's holder changed to this (non-empty) identity, ours included. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions extends Partial<ElectionTimings> {
  lease: LeaseAccess;
  /** For the Lease object created when none exists. */
  namespace: string;
  name: string;
  /** Default `<hostname>_<random>`. */
  identity?: string;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  logger?: Logger;
  /** Jitter source for acquire retries (0 ≤ x < 1); tests pass a constant. */
  random?: () => number;
}

/** `<node>_<random>`: which machine holds a Lease is visible in its holderIdentity. */
export function defaultIdentity(node: string = hostname()): string {
  return `${node}_${randomBytes(6).toString('hex')}`;
}

/**
 * Campaigns for a Lease from `start()` until `stop()`. While not leading it retries every retry
 * period (with up to 20 % jitter); while leading it renews every retry period. After losing
 * leadership it campaigns again; callers that must not go on (a standalone process) exit in
 * onStoppedLeading('lost').
 */
export class LeaderElector {
  readonly identity: string;
  private readonly timings: ElectionTimings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private observation: Observation | undefined;
  private leading = false;
  private lastRenew = 0;
  private reportedLeader = '';
  private running = false;
  private timer: Timer | undefined;
  private deadline: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.timings = {
      leaseDurationSeconds: opts.leaseDurationSeconds ?? DEFAULT_ELECTION_TIMINGS.leaseDurationSeconds,
      renewDeadlineSeconds: opts.renewDeadlineSeconds ?? DEFAULT_ELECTION_TIMINGS.renewDeadlineSeconds,
      retryPeriodSeconds: opts.retryPeriodSeconds ?? DEFAULT_ELECTION_TIMINGS.retryPeriodSeconds,
    };
    validateTimings(this.timings);
    this.identity = opts.identity ?? defaultIdentity();
    if (!this.identity) throw new TriremeError('Invalid', 'leader election: identity must not be empty');
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger).child({ lease: `${opts.namespace}/${opts.name}`, identity: this.identity });
    this.random = opts.random ?? Math.random;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The term we lead in (our identity and the Lease's transition count), for fencing; undefined unless leading. */
  currentTerm(): { identity: string; transitions: number } | undefined {
    if (!this.leading || !this.observation) return undefined;
    return { identity: this.identity, transitions: this.observation.record.leaseTransitions };
  }

  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops campaigning. If leading: calls onStoppedLeading('stopped'), waits for it, then (with
   * release, the default) writes an empty holder so the next candidate takes over at once.
   * `release: false` stops the timers only, as a crash would.
   */
  stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.timer) this.clock.clearTimeout(this.timer);
      if (this.deadline) this.clock.clearTimeout(this.deadline);
      await this.inFlight;
      if (this.leading) {
        this.leading = false;
        await this.opts.callbacks.onStoppedLeading('stopped');
      }
      // Also when an acquire landed just as we stopped: the Lease may be ours without our leading.
      if ((opts.release ?? true) && this.observation?.record.holderIdentity === this.identity) await this.release();
    })();
    return this.stopping;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.attempt().finally(() => { this.inFlight = undefined; });
    }, ms);
  }

  private retryDelay(): number {
    const base = this.timings.retryPeriodSeconds * 1000;
    // Renewals keep a steady beat; candidates spread out so they do not all hit the server at once.
    return this.leading ? base : base * (1 + 0.2 * this.random());
  }

  private async attempt(): Promise<void> {
    const started = this.clock.now();
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew(started);
    } catch (err) {
      this.log.debug({ err }, 'lease attempt failed');
    }
    if (!this.running) return;
    if (ok) {
      // The renewal counts from when it was sent: the write landed no earlier, so other
      // candidates' observation of it is no earlier either.
      this.lastRenew = started;
      if (!this.leading) {
        this.leading = true;
        this.log.info({ transitions: this.observation?.record.leaseTransitions }, 'became leader');
        try {
          this.opts.callbacks.onStartedLeading();
        } catch (err) {
          this.log.error({ err }, 'onStartedLeading threw');
        }
      }
      this.armDeadline();
    } else if (this.leading && this.clock.now() - this.lastRenew >= this.timings.renewDeadlineSeconds * 1000) {
      await this.loseLeadership();
    }
    this.schedule(this.retryDelay());
  }

  /** One GET, decide, and at most one compare-and-swap write. True when we hold the Lease after it. */
  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const current = await this.opts.lease.get();
    if (!current) {
      const d = decide(undefined, this.identity, now, this.timings.leaseDurationSeconds);
      if (d.kind !== 'write') return false;
      const created = await this.opts.lease.create({ metadata: { name: this.opts.name, namespace: this.opts.namespace }, spec: { ...d.record } });
      this.noteWritten(created, now);
      return true;
    }
    const version = current.metadata?.resourceVersion ?? '';
    this.observation = observe(this.observation, recordOf(current), version, this.clock.now());
    this.reportLeader(this.observation.record.holderIdentity);
    const d = decide(this.observation, this.identity, now, this.timings.leaseDurationSeconds);
    if (d.kind === 'held') return false;
    if (d.transition) this.log.info({ from: this.observation.record.holderIdentity, transitions: d.record.leaseTransitions }, 'taking over lease');
    const updated = await this.opts.lease.update({ ...current, metadata: { ...current.metadata, resourceVersion: version }, spec: { ...current.spec, ...d.record } });
    this.noteWritten(updated, now);
    return true;
  }

  private noteWritten(lease: Lease, now: number): void {
    this.observation = { record: recordOf(lease), version: lease.metadata?.resourceVersion ?? '', observedTime: now };
    this.reportLeader(this.identity);
  }

  private reportLeader(holder: string): void {
    if (holder === '' || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    try {
      this.opts.callbacks.onNewLeader?.(holder);
    } catch (err) {
      this.log.error({ err }, 'onNewLeader threw');
    }
  }

  /** A timer, not only the next attempt, ends leadership: a hung request must not extend it. */
  private armDeadline(): void {
    if (this.deadline) this.clock.clearTimeout(this.deadline);
    const at = this.lastRenew + this.timings.renewDeadlineSeconds * 1000;
    this.deadline = this.clock.setTimeout(() => {
      this.deadline = undefined;
      // Timers run before I/O in an event-loop turn: on a busy process the answer to a renewal
      // may already be waiting. Judge after that I/O (setImmediate runs after the poll phase);
      // the renewal counts from when it was sent either way, so this never extends leadership
      // past a renewal that did not happen.
      setImmediate(() => {
        if (this.running && this.leading && this.clock.now() - this.lastRenew >= this.timings.renewDeadlineSeconds * 1000) void this.loseLeadership();
      });
    }, Math.max(0, at - this.clock.now()));
  }

  private async loseLeadership(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    if (this.deadline) this.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    this.log.warn({ lastRenew: this.lastRenew }, 'failed to renew lease within the deadline; leadership lost');
    try {
      await this.opts.callbacks.onStoppedLeading('lost');
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading threw');
    }
  }

  /** Hands the Lease over if it is still ours; a lost race (Conflict) means it already is not. */
  private async release(): Promise<void> {
    try {
      const current = await this.opts.lease.get();
      if (!current || current.spec?.holderIdentity !== this.identity) return;
      const rec = releasedRecord(recordOf(current), this.clock.now());
      await this.opts.lease.update({ ...current, spec: { ...current.spec, ...rec } });
      this.log.info('released lease');
    } catch (err) {
      this.log.warn({ err }, 'could not release lease; the next leader waits out its duration');
    }
  }
}
