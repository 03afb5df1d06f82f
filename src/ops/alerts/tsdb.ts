// The samples the built-in evaluator keeps: per series (a label set including __name__), points
// in time order, with Prometheus-style staleness: when a target's scrape fails, or a series it
// had is missing from its next scrape, the series gets a stale marker (NaN) and is no longer
// selected until it reappears. Guarantees: pure data structure, time given by the caller;
// points older than `retentionMs` are dropped on append. Does not: persist anything (a new
// evaluator starts empty, so `for:` and range windows start over), or bound the number of series.
export type Labels = Readonly<Record<string, string>>;
export interface Point { t: number; v: number }
export interface Series { labels: Labels; points: Point[] }

/** A stable key of a label set. */
export function labelsKey(l: Labels): string {
  return JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
}

export const LOOKBACK_MS = 5 * 60_000;

export class SampleStore {
  private readonly series = new Map<string, Series>();
  /** The series keys each target's last scrape returned. */
  private readonly byTarget = new Map<string, Set<string>>();

  constructor(private readonly retentionMs: number) {}

  /** Records one scrape of `target` at `t`: its samples, or `undefined` when the scrape failed. */
  scrape(target: string, t: number, samples: { labels: Labels; value: number }[] | undefined): void {
    const before = this.byTarget.get(target) ?? new Set<string>();
    const now = new Set<string>();
    for (const s of samples ?? []) {
      const key = labelsKey(s.labels);
      now.add(key);
      this.append(key, s.labels, t, s.value);
    }
    for (const key of before) if (!now.has(key)) this.append(key, this.series.get(key)!.labels, t, Number.NaN);
    this.byTarget.set(target, now);
  }

  private append(key: string, labels: Labels, t: number, v: number): void {
    let s = this.series.get(key);
    if (!s) {
      s = { labels, points: [] };
      this.series.set(key, s);
    }
    s.points.push({ t, v });
    const cut = t - this.retentionMs;
    let drop = 0;
    while (drop < s.points.length - 1 && s.points[drop]!.t < cut) drop++;
    if (drop > 0) s.points.splice(0, drop);
  }

  all(): Iterable<Series> {
    return this.series.values();
  }
}
