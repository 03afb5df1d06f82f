// Small helpers of the benchmarks that run rounds of failures (failover, node-failure): a bounded
// poll and the median/worst of per-round timings.
// Guarantees: `until` never runs past its timeout by more than one poll and one call of `fn`,
// and treats a throw of `fn` as "not yet"; `median` is the lower median (an observed value).
// Does not: log, or keep state between calls.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every `everyMs` until it gives a value; undefined after `timeoutMs`. Errors count as "not yet". */
export async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    await sleep(everyMs);
  }
  return undefined;
}

export function median(v: readonly number[]): number | undefined {
  if (v.length === 0) return undefined;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function stat(v: readonly number[]): { n: number; medianMs?: number; worstMs?: number } {
  return { n: v.length, ...(v.length ? { medianMs: median(v), worstMs: Math.max(...v) } : {}) };
}
