// A bounded closed-loop load generator: `concurrency` virtual clients, each issuing its next
// operation as soon as its previous one finished, for a fixed time.
// Guarantees: it stops on its own (after warmup + duration, or after `maxOps` operations,
// whichever comes first; an operation in flight at the deadline is awaited, so the operation
// itself must be bounded, e.g. by a request timeout); operations started during the warm-up
// are excluded from every number; failures are counted, never mixed into the latencies.
// Does not: pace requests (closed loop: throughput is whatever the system under test gives).
import { Samples, elapsedMs, summarize, type LatencySummary } from './stats.js';

export interface LoopOptions {
  concurrency: number;
  /** Measured time after the warm-up. */
  durationMs: number;
  /** Time at the start whose operations are not counted (connections, JIT). */
  warmupMs: number;
  /** Hard cap on operations issued (warm-up included). */
  maxOps: number;
  /** One operation; `seq` is unique across the loop, `client` (0…concurrency-1) issues it. Rejects on failure. */
  op: (seq: number, client: number) => Promise<void>;
}

export interface LoopResult {
  concurrency: number;
  /** Successful measured operations. */
  ops: number;
  /** Failed measured operations. */
  errors: number;
  /** Every operation issued, warm-up included (for per-operation CPU accounting). */
  issued: number;
  /** From the end of the warm-up to the completion of the last measured operation. */
  elapsedMs: number;
  opsPerSec: number;
  latency: LatencySummary;
  firstError?: string;
}

export async function runClosedLoop(opts: LoopOptions): Promise<LoopResult> {
  const startNs = process.hrtime.bigint();
  const measureFromNs = startNs + BigInt(Math.round(opts.warmupMs * 1e6));
  const endNs = measureFromNs + BigInt(Math.round(opts.durationMs * 1e6));
  const samples = new Samples(16_384);
  let issued = 0;
  let errors = 0;
  let lastDoneNs = measureFromNs;
  let firstError: string | undefined;

  const client = async (id: number): Promise<void> => {
    for (;;) {
      const t0 = process.hrtime.bigint();
      if (t0 >= endNs || issued >= opts.maxOps) return;
      const seq = issued++;
      let ok = true;
      try {
        await opts.op(seq, id);
      } catch (e) {
        ok = false;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
      const t1 = process.hrtime.bigint();
      if (t0 < measureFromNs) continue;
      if (t1 > lastDoneNs) lastDoneNs = t1;
      if (ok) samples.add(elapsedMs(t0, t1));
      else errors++;
    }
  };

  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => client(i)));
  const elapsed = elapsedMs(measureFromNs, lastDoneNs);
  const latency = summarize(samples.values());
  return {
    concurrency: opts.concurrency,
    ops: latency.count,
    errors,
    issued,
    elapsedMs: elapsed,
    opsPerSec: elapsed > 0 ? latency.count / (elapsed / 1000) : 0,
    latency,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
