// Endpoint liveness for the kernel data plane: DNAT cannot retry another endpoint when a connect
// fails, so the agent that writes the rules checks the endpoints it writes, often, and leaves out
// the ones that do not answer. This is what keeps a Service answering while a dead node's pods
// are still listed as Ready (until the control plane notices, seconds later).
// Guarantees: every `intervalMs` each TCP target gets one TCP connect (closed at once); refused,
// unreachable or not connected within `timeoutMs` marks it dead, a connect that succeeds marks it
// live again. A UDP target on a loopback address (necessarily on this machine) is dead while no
// UDP socket is bound to its address:port (or the wildcard) in /proc/net/udp; a UDP target on
// another host is never marked dead. New targets start live (the API says they are Ready);
// `onChange` runs after a round in which the dead set changed. One round at a time.
// Does not: probe UDP endpoints on other hosts (nothing to connect to without sending the
// application a datagram), judge an application's health (its readiness probe does that).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { parseProcAddress } from '../../launch/socket-owner.js';
import type { ProxyProtocol } from './table.js';

export interface LivenessTarget {
  protocol: ProxyProtocol;
  ip: string;
  port: number;
}

/** `TCP/127.0.30.2:8080`: the key of a target in the dead set. */
export function targetKey(t: LivenessTarget): string {
  return `${t.protocol}/${t.ip}:${t.port}`;
}

/** Whether /proc/net/udp text shows a socket bound to ip:port or 0.0.0.0:port. */
export function udpBound(procNetUdp: string, ip: string, port: number): boolean {
  for (const line of procNetUdp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = parseProcAddress(f[1] ?? '');
    if (local && local.port === port && (local.ip === ip || local.ip === '0.0.0.0')) return true;
  }
  return false;
}

export const DEFAULT_LIVENESS_INTERVAL_MS = 150;
export const DEFAULT_LIVENESS_TIMEOUT_MS = 1_000;

export interface LivenessOptions {
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  timeoutMs?: number;
  onChange: () => void;
}

export class EndpointLiveness {
  private targets = new Map<string, LivenessTarget>();
  private readonly deadKeys = new Set<string>();
  private timer: Timer | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly o: LivenessOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_LIVENESS_INTERVAL_MS;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS;
  }

  /** The targets to check from now on; forgotten ones leave the dead set. */
  setTargets(targets: readonly LivenessTarget[]): void {
    this.targets = new Map(targets.map((t) => [targetKey(t), t] as const));
    for (const k of this.deadKeys) if (!this.targets.has(k)) this.deadKeys.delete(k);
  }

  /** Keys (`targetKey`) of the targets that failed their last check. */
  dead(): ReadonlySet<string> {
    return this.deadKeys;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      void this.round().finally(() => this.arm());
    }, this.intervalMs);
  }

  /** One check of every target. */
  async round(): Promise<void> {
    const targets = [...this.targets.entries()];
    if (targets.length === 0) return;
    let udpText: string | undefined;
    const results = await Promise.all(targets.map(async ([key, t]) => {
      if (t.protocol === 'TCP') return [key, await this.tcpAlive(t)] as const;
      if (!t.ip.startsWith('127.')) return [key, true] as const;
      udpText ??= readProcUdp();
      return [key, udpText === undefined ? true : udpBound(udpText, t.ip, t.port)] as const;
    }));
    let changed = false;
    for (const [key, alive] of results) {
      if (!this.targets.has(key)) continue; // forgotten while checked
      if (alive && this.deadKeys.delete(key)) {
        changed = true;
        this.o.logger.info({ endpoint: key }, 'endpoint answers again; back in the kernel rules');
      } else if (!alive && !this.deadKeys.has(key)) {
        this.deadKeys.add(key);
        changed = true;
        this.o.logger.info({ endpoint: key }, 'endpoint does not answer; left out of the kernel rules');
      }
    }
    if (changed && !this.stopped) this.o.onChange();
  }

  private tcpAlive(t: LivenessTarget): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect({ host: t.ip, port: t.port });
      const done = (ok: boolean): void => {
        s.removeAllListeners();
        s.on('error', () => undefined);
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(this.timeoutMs, () => done(false));
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
    });
  }
}

function readProcUdp(): string | undefined {
  try {
    return readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return undefined; // not Linux: UDP targets are not checked
  }
}
