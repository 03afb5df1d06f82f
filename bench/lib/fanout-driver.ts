// Drives one watch fan-out measurement against any target (API server or raw store): opens the
// watchers, proves every one of them live with warm-up writes, then issues a fixed number of
// paced writes and waits for their events.
// Guarantees: bounded: a fixed number of writes, and every wait has a deadline (a watcher that
// never sees an event shows up as `missing`, it does not hang the run); watchers are closed
// before it returns, also on failure.
// Does not: retry failed writes (they are counted in `writeErrors` and not measured).
import { FanoutRecorder, type FanoutResult } from './fanout.js';
import { Samples, summarize, type LatencySummary } from './stats.js';

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface FanoutTarget {
  /** Opens `n` watchers that call `onEvent` for each added object; resolves with a closer once open. */
  openWatchers(n: number, onEvent: (watcher: number, name: string, atMs: number) => void): Promise<() => void>;
  /** Creates one object; resolves when the write is acknowledged. */
  write(name: string): Promise<void>;
}

export interface FanoutOptions {
  watchers: number;
  writes: number;
  /** Interval between write starts. */
  paceMs: number;
  /** Unique per run, so object names never collide. */
  namePrefix: string;
  /** How long warm-up and final events may take to arrive. */
  waitMs: number;
}

export interface FanoutRun extends FanoutResult {
  paceMs: number;
  writeErrors: number;
  writeLatency: LatencySummary;
  /** How long the watchers needed to open and see a first (warm-up) event. */
  setupMs: number;
  firstWriteError?: string;
}

async function waitUntil(cond: () => boolean, deadlineMs: number): Promise<boolean> {
  while (!cond()) {
    if (nowMs() > deadlineMs) return false;
    await sleep(5);
  }
  return true;
}

export async function runFanout(target: FanoutTarget, opts: FanoutOptions): Promise<FanoutRun> {
  const warm = new FanoutRecorder(opts.watchers);
  const rec = new FanoutRecorder(opts.watchers);
  const t0 = nowMs();
  const close = await target.openWatchers(opts.watchers, (w, name, at) => {
    warm.event(w, name, at);
    rec.event(w, name, at);
  });
  try {
    // A watcher whose response arrived may still not be registered server-side: only an event
    // seen by all of them proves every watch live. Retry a few writes in case one got lost.
    let live = false;
    for (let i = 0; i < 3 && !live; i++) {
      const name = `${opts.namePrefix}-warmup-${i}`;
      warm.expect(name);
      await target.write(name);
      warm.ack(name, nowMs());
      live = await waitUntil(() => warm.result().allWatchersDelay.count > 0, nowMs() + opts.waitMs);
    }
    if (!live) throw new Error(`not all ${opts.watchers} watchers saw a warm-up event within ${opts.waitMs} ms`);
    const setupMs = nowMs() - t0;

    const writeLatency = new Samples(opts.writes);
    let writeErrors = 0;
    let firstWriteError: string | undefined;
    const start = nowMs();
    for (let i = 0; i < opts.writes; i++) {
      const due = start + i * opts.paceMs;
      const wait = due - nowMs();
      if (wait > 0) await sleep(wait);
      const name = `${opts.namePrefix}-${i}`;
      rec.expect(name);
      const w0 = nowMs();
      try {
        await target.write(name);
        const acked = nowMs();
        rec.ack(name, acked);
        writeLatency.add(acked - w0);
      } catch (e) {
        writeErrors++;
        firstWriteError ??= e instanceof Error ? e.message : String(e);
      }
    }
    // Every expected pair of a failed write stays pending forever; only wait for acked ones.
    await waitUntil(() => rec.pending() === (opts.writes - writeLatency.length) * opts.watchers, nowMs() + opts.waitMs);
    return {
      ...rec.result(),
      paceMs: opts.paceMs,
      writeErrors,
      writeLatency: summarize(writeLatency.values()),
      setupMs,
      ...(firstWriteError === undefined ? {} : { firstWriteError }),
    };
  } finally {
    close();
  }
}
