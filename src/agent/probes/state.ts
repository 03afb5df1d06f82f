// The pure part of a probe: consecutive successes/failures against the thresholds.
// Guarantees: the result flips to success only after `successThreshold` consecutive successes
// and to failure only after `failureThreshold` consecutive failures; `record` says what the
// caller must act on. No I/O, no time.
import type { ProbeKind, ProbeTiming } from './spec.js';

export type RecordOutcome =
  /** Nothing to report. */
  | 'none'
  /** The published result changed (either way). */
  | 'changed'
  /** `failureThreshold` consecutive failures while the result was already failure: only a
   *  startup probe reports this (the container never started and must be killed). */
  | 'failed-again';

export class ProbeState {
  /** Current published result. Liveness starts as success (a container is alive until proven
   *  dead), readiness and startup start as failure (not ready / not started). */
  result: boolean;
  private successes = 0;
  private failures = 0;

  constructor(private readonly kind: ProbeKind, private readonly timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>) {
    this.result = kind === 'liveness';
  }

  /** Records one probe outcome and says whether the caller has something to act on. */
  record(success: boolean): RecordOutcome {
    if (success) {
      this.failures = 0;
      this.successes++;
      if (!this.result && this.successes >= this.timing.successThreshold) {
        this.result = true;
        return 'changed';
      }
      return 'none';
    }
    this.successes = 0;
    this.failures++;
    if (this.failures < this.timing.failureThreshold) return 'none';
    if (this.result) {
      this.result = false;
      return 'changed';
    }
    return this.kind === 'startup' && this.failures === this.timing.failureThreshold ? 'failed-again' : 'none';
  }

  /** Forgets the counters (after the caller acted on a failure, as the kubelet does). */
  resetCounters(): void {
    this.successes = 0;
    this.failures = 0;
  }
}
