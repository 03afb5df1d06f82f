// When the supervisor restarts a member that died: exponential back-off, pure.
// Guarantees: the first restart after a run that lasted at least `stableMs` is immediate-ish
// (`initialMs`); each further quick death doubles the delay up to `maxMs`.
// Does not: decide whether to restart at all (a removed member is never restarted; member.ts).

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** A run at least this long counts as healthy and resets the back-off. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 30_000, factor: 2, stableMs: 10_000 };

export interface BackoffState {
  /** Deaths in a row, each after a run shorter than stableMs. */
  quickDeaths: number;
}

/** After a death at `diedAt` of a run started at `startedAt`: the new state and the delay. */
export function nextRestart(state: BackoffState, startedAt: number, diedAt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): { state: BackoffState; delayMs: number } {
  const quickDeaths = diedAt - startedAt >= policy.stableMs ? 0 : state.quickDeaths + 1;
  const delayMs = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, quickDeaths - 1));
  return { state: { quickDeaths }, delayMs };
}
