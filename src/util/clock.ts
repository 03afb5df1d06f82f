// Time goes through a Clock so that timing decisions are tested with a fake one.
// Guarantees: `now()` is wall-clock ms since the epoch; timers fire no earlier than asked.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(t: Timer): void;
}

export interface Timer {
  readonly id: unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => ({ id: setTimeout(fn, ms) }),
  clearTimeout: (t) => clearTimeout(t.id as NodeJS.Timeout),
};

/** A manual clock for unit tests: time moves only when `advance` is called. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(t: Timer): void {
    this.timers.delete(t.id as number);
  }

  /** How many timers are armed and not yet fired or cleared (a stopped component leaves none). */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order of their deadline. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}
