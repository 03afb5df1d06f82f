// Container restart back-off, as the kubelet applies it: the first restart after a crash is
// immediate, then each further one waits 10 s, 20 s, 40 s … capped at 5 min; a container that ran
// for at least 10 min before exiting starts the sequence over.
// Guarantees: pure (no I/O, no clock of its own) so every step is tested with plain numbers.
// Does not decide *whether* to restart (that is the restart policy's job, see restart-policy.ts).

export interface BackoffConfig {
  initialMs: number;
  maxMs: number;
  /** A container that ran at least this long resets the back-off. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

/** The back-off remembered for one container (undefined: none yet). */
export interface BackoffEntry {
  /** How long after the last exit the next restart must wait. */
  delayMs: number;
}

export type BackoffDecision =
  | { action: 'restart'; entry: BackoffEntry }
  | { action: 'wait'; until: number; entry: BackoffEntry | undefined };

/**
 * Decides whether an exited container may restart now.
 * `startedAt`/`finishedAt` are those of the instance that just exited (ms since the epoch).
 */
export function decideRestart(
  entry: BackoffEntry | undefined,
  run: { startedAt: number; finishedAt: number },
  now: number,
  cfg: BackoffConfig = DEFAULT_BACKOFF,
): BackoffDecision {
  let current = entry;
  if (current && run.finishedAt - run.startedAt >= cfg.resetAfterMs) current = undefined;
  if (current) {
    const until = run.finishedAt + current.delayMs;
    if (now < until) return { action: 'wait', until, entry: current };
    return { action: 'restart', entry: { delayMs: Math.min(cfg.maxMs, current.delayMs * 2) } };
  }
  return { action: 'restart', entry: { delayMs: cfg.initialMs } };
}
