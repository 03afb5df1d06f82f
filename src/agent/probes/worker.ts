// One probe of one container instance, driven by a Clock.
// Guarantees: the first run happens `initialDelaySeconds` after the container started (or as soon
// as the worker is allowed to run, if later); runs never overlap; the next run starts one period
// after the previous one started (at once if the run took longer); a run that has not finished
// after the timeout counts as a failure. After a liveness or startup failure has been reported
// the worker holds (runs no more) until it is replaced, as the kubelet does until the container
// restarts. A startup probe stops for good once it succeeded.
// Does not: decide what a result means for the container (the manager's caller does).
import type { Clock, Timer } from '../../util/clock.js';
import { nextRunAt, reportFailure, type ScheduleInput } from './schedule.js';
import { ProbeState } from './state.js';
import type { ProbeKind, ProbeTiming } from './spec.js';
import type { ProbeOutcome, Prober } from './types.js';

/** Extra time the worker gives a prober past its own timeout before declaring it timed out. */
const WATCHDOG_GRACE_MS = 100;

export interface ProbeWorkerOptions {
  kind: ProbeKind;
  timing: ProbeTiming;
  prober: Prober;
  clock: Clock;
  /** When the container instance started (ms since the epoch): initialDelay counts from here. */
  startedAt: number;
  /** Whether the worker may run now (liveness/readiness wait for startup). Checked before each run. */
  mayRun(): boolean;
  /** The published result changed, or a startup probe failed `failureThreshold` times. */
  onResult(outcome: ProbeOutcome): void;
  /** Each run's outcome (metrics). */
  onRun?(success: boolean): void;
  /** Each failed run, for `Unhealthy` events (in the fast phase at most once per period). */
  onFailure?(message: string): void;
  /** Readiness only: the interval between runs until the first success (0/undefined: none). */
  firstSuccessIntervalMs?: number;
}

export class ProbeWorker {
  readonly state: ProbeState;
  lastMessage = '';
  private timer: Timer | undefined;
  private inFlight = false;
  private stopped = false;
  private held = false;
  /** True when a run was skipped because mayRun() said no; `kick` resumes. */
  private waiting = false;
  private abort: AbortController | undefined;
  private everSucceeded = false;
  private lastFailureReportAt: number | undefined;

  constructor(private readonly o: ProbeWorkerOptions) {
    this.state = new ProbeState(o.kind, o.timing);
  }

  get result(): boolean {
    return this.state.result;
  }

  start(): void {
    this.scheduleAt(this.o.startedAt + this.o.timing.initialDelayMs);
  }

  /** Resumes a worker that was waiting for mayRun(). */
  kick(): void {
    if (!this.waiting || this.stopped || this.held) return;
    this.waiting = false;
    this.scheduleAt(this.o.startedAt + this.o.timing.initialDelayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
  }

  private scheduleAt(at: number): void {
    if (this.stopped || this.held) return;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, Math.max(0, at - this.o.clock.now()));
  }

  private async run(): Promise<void> {
    if (this.stopped || this.held || this.inFlight) return;
    if (!this.o.mayRun()) {
      this.waiting = true;
      return;
    }
    this.inFlight = true;
    const began = this.o.clock.now();
    const outcome = await this.runOnce();
    this.inFlight = false;
    if (this.stopped) return;
    this.lastMessage = outcome.message;
    this.o.onRun?.(outcome.success);
    if (!outcome.success && reportFailure(this.schedule(), began, this.lastFailureReportAt)) {
      this.lastFailureReportAt = began;
      this.o.onFailure?.(outcome.message);
    }
    const what = this.state.record(outcome.success);
    if (this.state.result) this.everSucceeded = true;
    if (what !== 'none') {
      const failed = !this.state.result;
      if (failed && this.o.kind !== 'readiness') {
        // Acted on by restarting the container: hold until replaced, counters cleared.
        this.held = true;
        this.state.resetCounters();
      }
      if (this.o.kind === 'startup' && this.state.result) this.stopped = true;
      this.o.onResult({ success: this.state.result, message: outcome.message });
    }
    this.scheduleAt(nextRunAt(this.schedule(), began));
  }

  private schedule(): ScheduleInput {
    return { kind: this.o.kind, periodMs: this.o.timing.periodMs, firstSuccessIntervalMs: this.o.firstSuccessIntervalMs, everSucceeded: this.everSucceeded };
  }

  private runOnce(): Promise<ProbeOutcome> {
    const ac = new AbortController();
    this.abort = ac;
    const timeoutMs = this.o.timing.timeoutMs;
    return new Promise<ProbeOutcome>((resolve) => {
      let settled = false;
      const settle = (r: ProbeOutcome): void => {
        if (settled) return;
        settled = true;
        this.o.clock.clearTimeout(watchdog);
        resolve(r);
      };
      const watchdog = this.o.clock.setTimeout(() => {
        ac.abort();
        settle({ success: false, message: `probe did not complete within ${timeoutMs / 1000}s` });
      }, timeoutMs + WATCHDOG_GRACE_MS);
      this.o.prober(timeoutMs, ac.signal).then(settle, (e: unknown) => settle({ success: false, message: e instanceof Error ? e.message : String(e) }));
    });
  }
}
