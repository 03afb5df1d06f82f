// The snapshot schedule: a cron expression (croner parses it) run through an injected clock.
// Guarantees: `nextRunAt` is a pure function of the expression and a time; a run never starts
// while the previous one is still going (the next time is computed after it ends); a delay
// longer than an hour is waited in steps of at most an hour, so a wall-clock jump is noticed;
// `stop()` cancels the timer and waits for a run in progress. A run that fails is the caller's
// to log and count; the schedule goes on.
// Does not: catch up on runs missed while the server was down.
import { Cron } from 'croner';
import { TriremeError } from '../../errors.js';
import type { Clock, Timer } from '../../util/clock.js';

export const DEFAULT_SNAPSHOT_SCHEDULE = '0 */6 * * *';
export const DEFAULT_SNAPSHOT_RETENTION = 10;
const MAX_WAIT_MS = 3_600_000;

/** Parses a cron expression (UTC); a bad one is a one-line BadRequest. */
export function parseSchedule(expr: string): Cron {
  try {
    return new Cron(expr, { paused: true, timezone: 'UTC' });
  } catch (e) {
    throw new TriremeError('BadRequest', `not a cron schedule: ${JSON.stringify(expr)} (${(e as Error).message})`);
  }
}

/** The first scheduled time strictly after `now` (ms), or undefined when there is none. */
export function nextRunAt(cron: Cron, now: number): number | undefined {
  return cron.nextRun(new Date(now))?.getTime();
}

export function startSchedule(opts: { expr: string; clock: Clock; run: () => Promise<void>; onError(err: unknown): void }): { stop(): Promise<void> } {
  const cron = parseSchedule(opts.expr);
  let timer: Timer | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const arm = (): void => {
    if (stopped) return;
    const at = nextRunAt(cron, opts.clock.now());
    if (at === undefined) return;
    const wait = (target: number): void => {
      const left = target - opts.clock.now();
      if (left > MAX_WAIT_MS) { timer = opts.clock.setTimeout(() => wait(target), MAX_WAIT_MS); return; }
      timer = opts.clock.setTimeout(() => {
        if (stopped) return;
        running = opts.run().then(arm, (e: unknown) => { opts.onError(e); arm(); });
      }, Math.max(0, left));
    };
    wait(at);
  };
  arm();
  return {
    async stop() {
      stopped = true;
      if (timer) opts.clock.clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}
