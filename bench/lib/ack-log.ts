// A steady writer for failover benchmarks: creates ConfigMaps one after the other through one
// client at a paced rate and logs when each was acknowledged; and the pure measure of a failover
// from such a log, the longest gap between two acknowledgements around a moment.
// Guarantees: the writer stops by itself after `maxWrites`; a write rejected with AlreadyExists
// (a retried request that had been applied) counts as acknowledged; every other failure is
// counted and the writer goes on. `longestGap` uses only the log it is given.
// Does not: retry a failed name (the next write takes the next name), or judge the numbers.
import type { KubeObject } from '../../src/api/object.js';
import type { ApiClient } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';

const CONFIGMAPS = resource('', 'configmaps');

export interface Ack {
  name: string;
  /** Date.now() when the answer arrived. */
  at: number;
}

/**
 * The longest time without an acknowledgement around [from, to], in ms: between two consecutive
 * acknowledgements when that stretch reaches into the window, or, when nothing was acknowledged
 * after `to` by `now` (the writer is still stuck), from the last acknowledgement up to `now`.
 */
export function longestGap(acks: readonly Ack[], from: number, to: number, now: number): number {
  let worst = 0;
  for (let i = 1; i < acks.length; i++) {
    const a = acks[i - 1]!.at;
    const b = acks[i]!.at;
    if (b < from || a > to) continue;
    worst = Math.max(worst, b - a);
  }
  const last = acks.at(-1)?.at;
  if (last === undefined || last <= to) worst = Math.max(worst, now - (last ?? from));
  return worst;
}

export class AckLog {
  readonly acks: Ack[] = [];
  failures = 0;
  firstFailure: string | undefined;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(client: ApiClient, prefix: string, opts: { ratePerSec: number; maxWrites: number; namespace?: string }) {
    const everyMs = 1000 / opts.ratePerSec;
    const ns = opts.namespace ?? 'default';
    this.done = (async () => {
      let next = Date.now();
      for (let n = 0; n < opts.maxWrites && !this.stopped; n++) {
        const name = `${prefix}-${n}`;
        try {
          await client.create(CONFIGMAPS, ns, { metadata: { name }, data: { n: String(n) } } as KubeObject);
          this.acks.push({ name, at: Date.now() });
        } catch (e) {
          if (isTriremeError(e, 'AlreadyExists')) this.acks.push({ name, at: Date.now() });
          else {
            this.failures++;
            this.firstFailure ??= (e as Error).message;
          }
        }
        next += everyMs;
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else next = Date.now();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
