// Per-member admission for the etcd client (src/storage/etcd.ts): which members get calls.
//
// Guarantees: a member whose call failed recoverably (refused, dropped, timed out, "no leader")
// gets no further calls until a probe of our own -- etcd's status RPC, which a member without
// a leader refuses -- succeeds; probes run every `probeEveryMs` while the member is out, each
// with its own deadline. A call still unanswered after `suspectAfterMs` starts probing too; if a
// probe then fails (by its deadline only when on time: a late failure means this process, not
// the member, was too busy), the member is taken out and the calls in flight to it are
// abandoned: they fail with a
// recoverable "does not answer" error (a write's outcome is then unknown: it was sent) rather
// than wait until keepalive gives up on the connection (~7 s). So a member that
// silently vanished (frozen, unplugged) costs the calls that were in flight to it, not a stalled call every time a circuit breaker half-opens (the
// stock breaker lets client traffic test the member: each test call to a frozen member waits
// for its whole deadline). Failures the gate is told not to count (`counts`) pass through.
// Does not: choose among admitted members (the etcd3 client picks at random), retry anything,
// or judge quorum: a member is admitted when it answers and knows a leader.
import { circuitBreaker, ConsecutiveBreaker, handleWhen, type IDefaultPolicyContext, type IDisposable, type IPolicy } from 'cockatiel';
import { GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/**
 * A call abandoned because its member stopped answering. It was sent: for a write the outcome
 * is unknown, whatever the probe's failure says (its message may name etcd's "no leader").
 */
export class AbandonedCallError extends GRPCUnavailableError {}

export interface HostGateOptions {
  host: string;
  /** Resolves when the member answers (and has a leader) within `deadlineMs`; rejects otherwise. */
  probe: (deadlineMs: number) => Promise<void>;
  /** Which failures take the member out. */
  counts: (err: Error) => boolean;
  clock: Clock;
  logger: Logger;
  /** Pause between probes while the member is out (default 250 ms). */
  probeEveryMs?: number;
  /** A call unanswered this long takes the member out until a probe succeeds (default 1.5 s). */
  suspectAfterMs?: number;
  /** Deadline of one probe (default 1 s). */
  probeDeadlineMs?: number;
}

/**
 * A probe that failed by its deadline blames the member only if the failure came about on time:
 * one that arrives much later shows that this process was too busy to run it (its own event
 * loop was the bottleneck), and abandoning calls then would fail healthy writes.
 */
const PROBE_LATE_MS = 500;

export interface HostGate {
  /** The etcd3 client's per-host fault policy. */
  readonly policy: IPolicy;
  /** Why the member is out (its last failure or failed probe); undefined while it gets calls. */
  outBecause(): string | undefined;
  close(): void;
}

/** Safety net only: the probe closes the breaker; this half-opens it should probing stop. */
const HALF_OPEN_FALLBACK_MS = 60_000;

export function createHostGate(opts: HostGateOptions): HostGate {
  const every = opts.probeEveryMs ?? 250;
  const suspectAfter = opts.suspectAfterMs ?? 1_500;
  const probeDeadline = opts.probeDeadlineMs ?? 1_000;
  const breaker = circuitBreaker(handleWhen(opts.counts), { halfOpenAfter: HALF_OPEN_FALLBACK_MS, breaker: new ConsecutiveBreaker(1) });
  let held: IDisposable | undefined;
  let timer: Timer | undefined;
  let closed = false;
  let because: string | undefined;
  /** Rejecters of the calls in flight to this member. */
  const inFlight = new Set<(err: Error) => void>();
  let suspected = false;
  let probing = false;

  const probeLoop = (): void => {
    timer = opts.clock.setTimeout(() => {
      timer = undefined;
      if (closed) return;
      const started = opts.clock.now();
      opts.probe(probeDeadline).then(
        () => {
          suspected = false;
          probing = false;
          if (closed || !held) return;
          opts.logger.info({ host: opts.host }, 'etcd member answers again; sending it calls');
          const h = held;
          held = undefined;
          because = undefined;
          h?.dispose();
        },
        (err: unknown) => {
          because = err instanceof Error ? err.message : String(err);
          const onTime = opts.clock.now() - started <= probeDeadline + PROBE_LATE_MS;
          if (suspected && (onTime || !(err instanceof GRPCDeadlineExceededError))) {
            suspected = false;
            if (!held) {
              opts.logger.warn({ host: opts.host, err: because }, 'etcd member does not answer; no calls to it until it answers a probe');
              held = breaker.isolate();
            }
            const abandon = new AbandonedCallError(`etcd member ${opts.host} stopped answering; call abandoned (probe: ${because})`);
            for (const reject of [...inFlight]) reject(abandon);
          }
          if (!closed) probeLoop();
          else probing = false;
        },
      );
    }, every);
  };

  const startProbing = (): void => {
    if (probing || closed) return;
    probing = true;
    probeLoop();
  };

  const takeOut = (): void => {
    held = breaker.isolate();
    startProbing();
  };

  breaker.onBreak((reason) => {
    // isolate() itself reports a break; only a failure starts the probing.
    if (closed || held || ('isolated' in reason && reason.isolated)) return;
    because = 'error' in reason ? reason.error.message : 'a call failed';
    opts.logger.warn({ host: opts.host, err: because }, 'etcd member failed; no calls to it until it answers a probe');
    takeOut();
  });

  const policy: IPolicy = {
    _altReturn: undefined as never,
    onSuccess: breaker.onSuccess,
    onFailure: breaker.onFailure,
    execute: <T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> =>
      breaker.execute(async (ctx) => {
        const timer = opts.clock.setTimeout(() => {
          if (closed || held || suspected) return;
          suspected = true;
          opts.logger.info({ host: opts.host }, `etcd member gave no answer for ${suspectAfter} ms; probing it`);
          startProbing();
        }, suspectAfter);
        let reject: ((err: Error) => void) | undefined;
        const abandoned = new Promise<never>((_, rej) => (reject = rej));
        // Only the race below listens; an abandonment that comes after it settled is moot.
        abandoned.catch(() => undefined);
        inFlight.add(reject!);
        try {
          // Inside the try: etcd3's markFailed hands us a function that throws at once, and its
          // entry must still leave inFlight (or a later abandonment would reject nobody's promise).
          const call = Promise.resolve(fn(ctx));
          call.catch(() => undefined); // an abandoned call's own failure comes later and is moot
          return await Promise.race([call, abandoned]);
        } finally {
          inFlight.delete(reject!);
          opts.clock.clearTimeout(timer);
        }
      }, signal),
  };

  return {
    policy,
    outBecause: () => (held ? because : undefined),
    close() {
      closed = true;
      if (timer) opts.clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
