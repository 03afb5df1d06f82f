// Probe timing as the kubelet applies it: API defaults filled in and minimums enforced.
// Guarantees: every field of the result is a positive (or, for delays, non-negative) integer,
// so the worker never divides by zero or spins. Does not validate the probe's action.
import type { Probe } from 'kubernetes-types/core/v1.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

function intAtLeast(v: number | undefined, dflt: number, min: number): number {
  if (v === undefined || !Number.isFinite(v)) return dflt;
  return Math.max(min, Math.floor(v));
}

/** Defaults: initialDelay 0 s, period 10 s, timeout 1 s, success 1, failure 3 (as in the API). */
export function probeTiming(probe: Probe, kind: ProbeKind): ProbeTiming {
  return {
    initialDelayMs: intAtLeast(probe.initialDelaySeconds, 0, 0) * 1000,
    periodMs: intAtLeast(probe.periodSeconds, 10, 1) * 1000,
    timeoutMs: intAtLeast(probe.timeoutSeconds, 1, 1) * 1000,
    // Liveness and startup must use 1 (validation enforces it); we clamp so a bad spec cannot
    // make a failed container look alive for longer than one success.
    successThreshold: kind === 'readiness' ? intAtLeast(probe.successThreshold, 1, 1) : 1,
    failureThreshold: intAtLeast(probe.failureThreshold, 3, 1),
  };
}

/**
 * The grace period to use when a liveness or startup failure kills the container: the probe's
 * own `terminationGracePeriodSeconds` overrides the pod's (readiness failures kill nothing).
 */
export function probeTerminationGracePeriodSeconds(probe: Probe | undefined, podGraceSeconds: number | undefined): number {
  const own = probe?.terminationGracePeriodSeconds;
  if (own !== undefined && Number.isFinite(own) && own >= 0) return Math.floor(own);
  return podGraceSeconds ?? 30;
}
