// The node fence: an agent that may have been cut off from the control plane (contact.ts) stops
// every pod that was deleted or replaced meanwhile before it reports anything again, and pods
// that opted in to self-fencing are stopped while it cannot report.
// Guarantees: as the heartbeat's ReportGuard, `beforeReport` resolves only once the node is
// fenced — a consistent list of the pods bound to this node (fieldSelector spec.nodeName, no
// resourceVersion: never older than any acknowledged write) has been taken after the suspicion
// arose, and every local pod the list no longer shows has no live container (plan.ts,
// PodManager.applyFence); while the API is unreachable it rejects, so no lease renewal and no
// Ready status is written by a node that has not fenced. One fence runs at a time (concurrent
// reports share it). A look every `tickMs` notices clock jumps and, once no report succeeded for
// `selfFenceAfterMs`, holds the self-fencing pods (stopped within `stopGraceMs`); the next fence
// releases those the API still shows.
// With nothing running on the node the fence completes without reading the API.
// Does not: write to the API, or fence static pods.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient } from '../../client/api-client.js';
import { resource } from '../../client/resources.js';
import { TriremeError } from '../../errors.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { ReportGuard } from '../node/heartbeat.js';
import { fenced, initialContact, observe, reported, selfFenceDue, type ContactConfig, type ContactState } from './contact.js';
import { planFence, type FencePlan, type LocalPod } from './plan.js';

const PODS = resource('', 'pods');
/** A fence interrupted by suspensions this often in a row gives up until the next report. */
const MAX_FENCE_ROUNDS = 3;

/** What the fence needs of the pod manager. */
export interface FencedPods {
  snapshot(): Promise<LocalPod[]>;
  applyFence(plan: FencePlan, graceCapMs: number): Promise<void>;
  holdSelfFencing(graceCapMs: number): string[];
}

export interface NodeFenceConfig extends ContactConfig {
  /** Grace period of a fenced or self-fenced pod's containers (SIGTERM, then SIGKILL). */
  stopGraceMs: number;
  /** How often the fence looks at the clock (jumps, self-fencing). */
  tickMs: number;
}

export interface NodeFenceOptions {
  client: ApiClient;
  nodeName: string;
  pods: FencedPods;
  clock: Clock;
  logger: Logger;
  config: NodeFenceConfig;
  /** A monotonic clock in ms (default performance.now); tests pass the fake clock's now. */
  monotonicNow?: () => number;
  /** After each fence but the first (the agent's start): the node was cut off, report it now. */
  onFenced?: () => void;
}

export class NodeFence implements ReportGuard {
  private state: ContactState;
  private running: Promise<void> | undefined;
  private timer: Timer | undefined;
  private stopped = false;
  private readonly mono: () => number;
  private fences = 0;

  constructor(private readonly o: NodeFenceOptions) {
    this.mono = o.monotonicNow ?? (() => performance.now());
    this.state = initialContact(this.mono());
  }

  /** Starts the periodic look. */
  start(): void {
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** True when the next report must wait for a fence. */
  get suspect(): boolean {
    return this.look().suspect;
  }

  async beforeReport(): Promise<void> {
    for (let round = 0; this.look().suspect; round++) {
      if (round >= MAX_FENCE_ROUNDS) throw new TriremeError('ServiceUnavailable', `fence: interrupted ${round} times by suspensions of the agent; not reporting yet`);
      this.running ??= this.fence().finally(() => {
        this.running = undefined;
      });
      await this.running;
    }
  }

  reported(): void {
    this.state = reported(this.look(), this.mono());
  }

  private look(): ContactState {
    this.state = observe(this.state, this.mono(), this.o.config);
    return this.state;
  }

  private tick(): void {
    if (this.stopped) return;
    const s = this.look();
    if (selfFenceDue(s, this.mono(), this.o.config)) {
      const held = this.o.pods.holdSelfFencing(this.o.config.stopGraceMs);
      const silentMs = Math.round(this.mono() - s.lastContactAt);
      if (held.length > 0) this.o.logger.warn({ pods: held, silentMs }, 'self-fence: no node report reached the API for the grace period; stopping the self-fencing pods');
    }
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.o.config.tickMs);
  }

  /** One fence: snapshot, consistent list, stop what is gone. Rejects while the API is unreachable. */
  private async fence(): Promise<void> {
    const why = this.state.why;
    const startedAt = this.mono();
    const snapshot = await this.o.pods.snapshot();
    // Nothing runs here: nothing can be stale, and no read is needed (a node that may not list
    // pods still registers).
    const items = snapshot.length === 0 ? [] : (await this.o.client.list<Pod & KubeObject>(PODS, undefined, { fieldSelector: `spec.nodeName=${this.o.nodeName}` })).items;
    const plan = planFence(snapshot, items);
    await this.o.pods.applyFence(plan, this.o.config.stopGraceMs);
    this.state = fenced(this.look(), startedAt, this.mono());
    const fields = { why, stopped: plan.stop.map((s) => s.uid), terminating: plan.update.length, released: plan.release, listed: snapshot.length === 0 ? 'skipped' : items.length, ms: Math.round(this.mono() - startedAt) };
    if (plan.stop.length > 0 || plan.release.length > 0) this.o.logger.warn(fields, 'fence: stopped the pods deleted or replaced while this node was cut off');
    else this.o.logger.info(fields, 'fence: the pods on this node match the API');
    if (!this.state.suspect && this.fences++ > 0) this.o.onFenced?.();
  }
}
