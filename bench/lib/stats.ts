// Latency bookkeeping for benchmarks: a growable sample buffer and nearest-rank percentiles.
// Guarantees: every recorded sample is kept (no sampling, no histogram buckets), so p99 is the
// exact nearest-rank p99 of what was recorded; memory is bounded by the caller's op limit.
// Does not: filter outliers, correct for coordinated omission (the loops using this are closed
// loops, whose latencies say how long a request took, not how long a user would have waited).

/** Summary of one set of latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** An append-only list of numbers (milliseconds) in a Float64Array that doubles as it fills. */
export class Samples {
  private buf: Float64Array;
  private n = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Float64Array(Math.max(1, initialCapacity));
  }

  add(v: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }

  get length(): number {
    return this.n;
  }

  /** A copy of the recorded values, in recording order. */
  values(): Float64Array {
    return this.buf.slice(0, this.n);
  }
}

/** Nearest-rank percentile (p in [0, 100]) of values already sorted ascending; NaN if empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0] as number;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    count: n,
    meanMs: n === 0 ? Number.NaN : sum / n,
    p50Ms: percentileSorted(sorted, 50),
    p90Ms: percentileSorted(sorted, 90),
    p99Ms: percentileSorted(sorted, 99),
    maxMs: n === 0 ? Number.NaN : (sorted[n - 1] as number),
  };
}

/** Milliseconds between two `process.hrtime.bigint()` readings. */
export function elapsedMs(startNs: bigint, endNs: bigint): number {
  return Number(endNs - startNs) / 1e6;
}
