// Passive death detection for the kernel data plane's endpoints: one idle TCP connection to each
// endpoint, so that when the endpoint's process dies the kernel closes it and this agent hears it
// at once, instead of at its next liveness round. The caller (liveness.ts) then checks that
// endpoint right away and, if it still answers, watches it again (an application may close idle
// connections of its own accord).
// Guarantees: at most one watching connection per endpoint; it sends nothing and discards what it
// receives; `onClosed(key)` runs once per connection that ends (or fails to open) unless the
// caller unwatched it or stopped; an endpoint whose connection ended `FLAP_LIMIT` times within
// `FLAP_WINDOW_MS` is not watched again before that window has passed (an application that
// closes at once must not make this a connect loop; the liveness rounds still check it).
// Does not: judge liveness (the caller does, from a connect or /proc/net/tcp), notice a host that
// dies without closing its connections (no FIN or RST arrives; the rounds' connect timeout and TCP
// keepalive cover that).
import net from 'node:net';
import type { Clock } from '../../util/clock.js';

export const FLAP_LIMIT = 5;
export const FLAP_WINDOW_MS = 10_000;
const KEEPALIVE_MS = 5_000;

export interface WatchTarget {
  ip: string;
  port: number;
}

export class EndpointWatchers {
  private readonly sockets = new Map<string, net.Socket>();
  private readonly closes = new Map<string, number[]>();
  private stopped = false;

  constructor(private readonly o: { clock: Clock; onClosed: (key: string) => void }) {}

  /** Watches `key` unless it is watched already, flapping, or this was stopped. */
  watch(key: string, t: WatchTarget): void {
    if (this.stopped || this.sockets.has(key)) return;
    const now = this.o.clock.now();
    const recent = (this.closes.get(key) ?? []).filter((at) => now - at < FLAP_WINDOW_MS);
    this.closes.set(key, recent);
    if (recent.length >= FLAP_LIMIT) return;
    const s = net.connect({ host: t.ip, port: t.port });
    this.sockets.set(key, s);
    s.setNoDelay(true);
    s.on('connect', () => s.setKeepAlive(true, KEEPALIVE_MS));
    s.on('data', () => undefined);
    s.on('error', () => undefined); // 'close' follows and reports it
    s.once('close', () => {
      if (this.sockets.get(key) !== s) return; // unwatched
      this.sockets.delete(key);
      this.closes.get(key)?.push(this.o.clock.now());
      if (!this.stopped) this.o.onClosed(key);
    });
  }

  /** Stops watching `key` (no onClosed for it). */
  unwatch(key: string): void {
    const s = this.sockets.get(key);
    if (!s) return;
    this.sockets.delete(key);
    s.destroy();
  }

  /** Keeps only the keys in `keep`, and forgets the flap history of the others. */
  retain(keep: ReadonlySet<string>): void {
    for (const key of [...this.sockets.keys()]) if (!keep.has(key)) this.unwatch(key);
    for (const key of [...this.closes.keys()]) if (!keep.has(key)) this.closes.delete(key);
  }

  watching(): number {
    return this.sockets.size;
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.sockets.keys()]) this.unwatch(key);
  }
}
