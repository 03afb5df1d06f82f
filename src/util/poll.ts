// Bounded polling of a condition, for tests, benchmarks and CLI waits.
// Guarantees: `pollUntil` resolves with the first value `fn` returns that is neither
// `undefined` nor `false`, or rejects once `timeoutMs` has passed, naming what it waited for
// and the last error `fn` threw. It never runs `fn` twice at once and never loops unbounded.
// Does not: decide anything by elapsed time alone (a caller that needs "X never happens"
// must poll the condition that would show X, not sleep and look once).

import { systemClock, type Clock } from './clock.js';

export interface PollOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  everyMs?: number;
  clock?: Clock;
}

export async function pollUntil<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, opts: PollOptions = {}): Promise<T> {
  const { timeoutMs = 10_000, everyMs = 50, clock = systemClock } = opts;
  const deadline = clock.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (clock.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    }
    await new Promise<void>((r) => clock.setTimeout(r, everyMs));
  }
}
