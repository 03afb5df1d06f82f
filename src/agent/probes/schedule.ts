// When a probe runs next, and which failed runs are worth an `Unhealthy` event (pure).
// Guarantees: a readiness probe that has not yet succeeded (its result never turned true for
// this container instance) is retried every `firstSuccessIntervalMs` instead of every period,
// so a container joins its Services within that interval of serving; once it succeeded the
// normal period applies for good (a later readiness failure does not bring the fast phase
// back — a new instance does, since it gets a new worker). Runs never start before the previous
// one started plus the interval (at once if the run took longer). In the fast phase failures are
// reported at most once per period, so fast retries do not flood the pod's events.
// Does not: apply to liveness or startup probes (their failures count toward a restart, so
// retrying them faster would change when containers are killed), or keep any state itself.
import type { ProbeKind } from './spec.js';

export interface ScheduleInput {
  kind: ProbeKind;
  periodMs: number;
  /** 0 or undefined: no fast phase. */
  firstSuccessIntervalMs?: number | undefined;
  /** The probe's result was true at least once for this instance. */
  everSucceeded: boolean;
}

/** The interval between the starts of two runs now. */
export function probeIntervalMs(s: ScheduleInput): number {
  const fast = s.firstSuccessIntervalMs ?? 0;
  if (s.kind !== 'readiness' || s.everSucceeded || fast <= 0) return s.periodMs;
  return Math.min(fast, s.periodMs);
}

/** When the next run starts, given when the last one started. */
export function nextRunAt(s: ScheduleInput, lastBeganAt: number): number {
  return lastBeganAt + probeIntervalMs(s);
}

/**
 * Whether a failed run at `now` gets an `Unhealthy` event: always at the normal period; in the
 * fast phase only when a period has passed since the last reported failure (or none was).
 */
export function reportFailure(s: ScheduleInput, now: number, lastReportedAt: number | undefined): boolean {
  if (probeIntervalMs(s) >= s.periodMs) return true;
  return lastReportedAt === undefined || now - lastReportedAt >= s.periodMs;
}
