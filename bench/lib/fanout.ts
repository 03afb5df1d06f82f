// Watch fan-out bookkeeping: for every (write, watcher) pair, the time from the write's
// acknowledgement to that watcher receiving the write's event.
// Guarantees: an event that arrives before its write's acknowledgement was recorded still
// counts (its delay is clamped to 0 and reported in `beforeAck`); duplicate events for one pair
// keep the first; events for names never registered with `expect` are ignored (warm-ups).
// Does not: take the time itself: callers pass timestamps from one monotonic clock (ms).
import { summarize, type LatencySummary } from './stats.js';

export interface FanoutResult {
  writes: number;
  watchers: number;
  /** (write, watcher) pairs measured. */
  pairs: number;
  /** Pairs whose event never arrived. */
  missing: number;
  /** Pairs whose event arrived before the write's acknowledgement (delay counted as 0). */
  beforeAck: number;
  /** Per pair: acknowledgement → event at that watcher. */
  delay: LatencySummary;
  /** Per write: acknowledgement → event at the last of all watchers. */
  allWatchersDelay: LatencySummary;
}

export class FanoutRecorder {
  private readonly acks = new Map<string, number>();
  private readonly seen = new Map<string, Float64Array>();
  private outstanding = 0;

  constructor(readonly watchers: number) {}

  /** Announces a write (before issuing it), so that its events are tracked. */
  expect(name: string): void {
    if (this.seen.has(name)) return;
    this.seen.set(name, new Float64Array(this.watchers).fill(Number.NaN));
    this.outstanding += this.watchers;
  }

  ack(name: string, atMs: number): void {
    this.acks.set(name, atMs);
  }

  event(watcher: number, name: string, atMs: number): void {
    const row = this.seen.get(name);
    if (row === undefined || watcher < 0 || watcher >= this.watchers || !Number.isNaN(row[watcher])) return;
    row[watcher] = atMs;
    this.outstanding--;
  }

  /** Pairs still waiting for their event. */
  pending(): number {
    return this.outstanding;
  }

  result(): FanoutResult {
    const delays: number[] = [];
    const lastDelays: number[] = [];
    let missing = 0;
    let beforeAck = 0;
    let writes = 0;
    for (const [name, row] of this.seen) {
      const ack = this.acks.get(name);
      if (ack === undefined) continue; // the write failed: nothing to measure against
      writes++;
      let last = 0;
      let complete = true;
      for (const t of row) {
        if (Number.isNaN(t)) {
          missing++;
          complete = false;
          continue;
        }
        if (t < ack) beforeAck++;
        const d = Math.max(0, t - ack);
        delays.push(d);
        if (d > last) last = d;
      }
      if (complete) lastDelays.push(last);
    }
    return {
      writes,
      watchers: this.watchers,
      pairs: writes * this.watchers,
      missing,
      beforeAck,
      delay: summarize(delays),
      allWatchersDelay: summarize(lastDelays),
    };
  }
}

/** Splits a byte stream of newline-delimited JSON into complete lines (partial ones are kept). */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  }
}

/** The type and object name of one watch event line; undefined if the line is not one. */
export function parseWatchLine(line: string): { type: string; name: string | undefined } | undefined {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof ev !== 'object' || ev === null) return undefined;
  const { type, object } = ev as { type?: unknown; object?: { metadata?: { name?: unknown } } };
  if (typeof type !== 'string') return undefined;
  const name = object?.metadata?.name;
  return { type, name: typeof name === 'string' ? name : undefined };
}
