// The queue of pods waiting for a scheduling decision, in three parts like kube-scheduler's:
// active (ready now: higher priority first, then first come first served), back-off (failed
// recently: ready again after 1 s, 2 s, 4 s ... up to a maximum per attempt), and
// unschedulable (no node fitted: parked until the cluster changes — `moveAllToActive` — or
// until `maxUnschedulableMs` passes).
// Guarantees: a pod key is in at most one part at a time, or "in flight" between `pop` and
// `done`/`requeue*`; `delete` removes it wherever it is; `update` keeps its place (moving an
// unschedulable pod back to active, since its spec may now fit). `onReady` is called when
// a pod becomes poppable. Time comes from the injected Clock.
// Does not: decide whether a cluster event can help a particular pod (every event moves all).
import type { Clock, Timer } from '../util/clock.js';
import { Heap } from './heap.js';
import type { PodInfo } from './pod-info.js';

type Where = 'active' | 'backoff' | 'unschedulable' | 'inflight';

interface Entry {
  info: PodInfo;
  where: Where;
  attempts: number;
  seq: number;
  /** backoff: when it may run again; unschedulable: when it was parked. */
  at: number;
  /** When it was last popped: back-off counts from the last attempt. */
  lastTried: number;
  /** Set when a cluster change arrived while the pod was in flight. */
  moved: boolean;
}

export interface SchedulingQueueOptions {
  clock: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxUnschedulableMs?: number;
  onReady?: () => void;
}

export class SchedulingQueue {
  private readonly entries = new Map<string, Entry>();
  /** Parked and in-flight entries, so that cluster events cost O(those), not O(queue). */
  private readonly parked = new Set<Entry>();
  private readonly inflight = new Set<Entry>();
  private readonly active = new Heap<Entry>((a, b) => a.info.priority > b.info.priority || (a.info.priority === b.info.priority && a.seq < b.seq));
  private readonly backoff = new Heap<Entry>((a, b) => a.at < b.at);
  private seq = 0;
  private backoffTimer: Timer | null = null;
  private backoffTimerAt = Infinity;
  private flushTimer: Timer | null = null;
  private closed = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;

  constructor(private readonly opts: SchedulingQueueOptions) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = opts.maxUnschedulableMs ?? 60_000;
  }

  get size(): number {
    return this.entries.size;
  }

  get unschedulableCount(): number {
    return this.parked.size;
  }

  /** Counts per part (for metrics and tests). */
  counts(): Record<Where, number> {
    const c: Record<Where, number> = { active: 0, backoff: 0, unschedulable: 0, inflight: 0 };
    for (const e of this.entries.values()) c[e.where]++;
    return c;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** A new pending pod (or one seen again): active unless already queued. */
  add(info: PodInfo): void {
    if (this.closed) return;
    const e = this.entries.get(info.key);
    if (e) return this.update(info);
    const entry: Entry = { info, where: 'active', attempts: 0, seq: ++this.seq, at: 0, lastTried: 0, moved: false };
    this.entries.set(info.key, entry);
    this.activate(entry);
  }

  /**
   * A newer version of a queued pod. With `specChanged` false (only its status moved, e.g.
   * our own PodScheduled condition) an unschedulable pod stays parked.
   */
  update(info: PodInfo, specChanged = true): void {
    const e = this.entries.get(info.key);
    if (!e) return this.add(info);
    e.info = info;
    if (e.where === 'unschedulable' && specChanged) this.activate(e);
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    // Heaps drop stale entries lazily on pop.
    this.entries.delete(key);
    this.parked.delete(e);
    this.inflight.delete(e);
  }

  /** The next pod to schedule, now in flight; undefined when none is ready. */
  pop(): PodInfo | undefined {
    for (;;) {
      const e = this.active.pop();
      if (!e) return undefined;
      if (this.entries.get(e.info.key) !== e || e.where !== 'active') continue;
      e.where = 'inflight';
      this.inflight.add(e);
      e.moved = false;
      e.attempts++;
      e.lastTried = this.opts.clock.now();
      return e.info;
    }
  }

  /** The in-flight pod was bound (or dropped): forget it. */
  done(key: string): void {
    const e = this.entries.get(key);
    if (e?.where === 'inflight') this.delete(key);
  }

  /** No node fitted: park it until the cluster changes (back-off if it already did). */
  requeueUnschedulable(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.where !== 'inflight') return;
    this.inflight.delete(e);
    if (e.moved) return this.toBackoff(e);
    e.where = 'unschedulable';
    this.parked.add(e);
    e.at = this.opts.clock.now();
    this.armFlush();
  }

  /** A transient failure (e.g. the bind failed): retry after the pod's back-off. */
  requeueBackoff(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.where !== 'inflight') return;
    this.inflight.delete(e);
    this.toBackoff(e);
  }

  /** The cluster changed: every parked pod gets another chance (after its back-off). */
  moveAllToActive(): void {
    for (const e of this.inflight) e.moved = true;
    if (this.parked.size === 0) return;
    const parked = [...this.parked];
    this.parked.clear();
    for (const e of parked) this.toBackoff(e);
  }

  backoffMs(attempts: number): number {
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, attempts - 1));
  }

  close(): void {
    this.closed = true;
    if (this.backoffTimer) this.opts.clock.clearTimeout(this.backoffTimer);
    if (this.flushTimer) this.opts.clock.clearTimeout(this.flushTimer);
    this.backoffTimer = this.flushTimer = null;
    this.entries.clear();
    this.parked.clear();
    this.inflight.clear();
  }

  private activate(e: Entry): void {
    this.parked.delete(e);
    e.where = 'active';
    this.active.push(e);
    this.opts.onReady?.();
  }

  private toBackoff(e: Entry): void {
    this.parked.delete(e);
    const at = e.lastTried + this.backoffMs(e.attempts);
    if (at <= this.opts.clock.now()) return this.activate(e);
    e.where = 'backoff';
    e.at = at;
    this.backoff.push(e);
    this.armBackoff(at);
  }

  private armBackoff(at: number): void {
    if (this.closed || at >= this.backoffTimerAt) return;
    if (this.backoffTimer) this.opts.clock.clearTimeout(this.backoffTimer);
    this.backoffTimerAt = at;
    this.backoffTimer = this.opts.clock.setTimeout(() => {
      this.backoffTimer = null;
      this.backoffTimerAt = Infinity;
      this.flushBackoff();
    }, Math.max(0, at - this.opts.clock.now()));
  }

  private flushBackoff(): void {
    const now = this.opts.clock.now();
    for (;;) {
      const e = this.backoff.peek();
      if (!e) return;
      if (this.entries.get(e.info.key) !== e || e.where !== 'backoff') {
        this.backoff.pop();
        continue;
      }
      if (e.at > now) return this.armBackoff(e.at);
      this.backoff.pop();
      this.activate(e);
    }
  }

  private armFlush(): void {
    if (this.closed || this.flushTimer) return;
    const period = Math.max(1000, Math.floor(this.maxUnschedulableMs / 2));
    this.flushTimer = this.opts.clock.setTimeout(() => {
      this.flushTimer = null;
      const now = this.opts.clock.now();
      let left = false;
      for (const e of [...this.parked]) {
        if (now - e.at >= this.maxUnschedulableMs) this.activate(e);
        else left = true;
      }
      if (left) this.armFlush();
    }, period);
  }
}
