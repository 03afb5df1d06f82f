// Endpoint liveness for the kernel data plane: DNAT cannot retry another endpoint when a connect
// fails, so the agent that writes the rules checks the endpoints it writes, often, and leaves out
// the ones that do not answer. This is what keeps a Service answering while a dead node's pods
// are still listed as Ready (until the control plane notices, seconds later).
// Guarantees: an endpoint on a loopback address (necessarily on this machine) is checked every
// `localIntervalMs` by reading /proc/net/tcp once per round — dead while no socket listens on its
// address:port or the wildcard — so a killed pod leaves the rules within tens of milliseconds at
// the cost of one file read, however many endpoints there are. Any other endpoint gets one TCP
// connect (closed at once) every `intervalMs`: refused, unreachable or not connected within
// `timeoutMs` marks it dead, a success live again; those connects run beside the local rounds,
// never delaying them. Besides the rounds, every live target is watched through an idle
// connection (endpoint-watch.ts): when it closes — the endpoint's process died, or the
// application dropped an idle connection — that target is connected to at once (refused: dead;
// accepted: watched again), so a killed pod leaves the rules within milliseconds wherever it ran,
// as long as its host is up. New targets start live (the API says they are Ready); `onChange` runs
// after a check in which the dead set changed. One local round and one remote round at a time.
// Does not: check UDP endpoints (the kernel plane serves only TCP: proxy.ts keeps UDP Services in
// userspace, which re-sends a refused datagram to another endpoint), judge an application's
// health (its readiness probe does that), or see listeners in other network namespaces through
// /proc/net/tcp (a loopback endpoint is this namespace's by definition).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { parseProcAddress } from '../../launch/socket-owner.js';
import { EndpointWatchers } from './endpoint-watch.js';

export interface LivenessTarget {
  ip: string;
  port: number;
}

/** `TCP/127.0.30.2:8080`: the key of a target in the dead set (the rules' backend keys). */
export function targetKey(t: LivenessTarget): string {
  return `TCP/${t.ip}:${t.port}`;
}

/** `ip:port` of every TCP socket in LISTEN state in /proc/net/tcp text. */
export function tcpListeners(procNetTcp: string): Set<string> {
  const out = new Set<string>();
  for (const line of procNetTcp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '0A') continue; // TCP_LISTEN
    const local = parseProcAddress(f[1] ?? '');
    if (local) out.add(`${local.ip}:${local.port}`);
  }
  return out;
}

/** Whether a listener set (tcpListeners) has a socket for ip:port, on that address or the wildcard. */
export function listens(listeners: ReadonlySet<string>, ip: string, port: number): boolean {
  return listeners.has(`${ip}:${port}`) || listeners.has(`0.0.0.0:${port}`);
}

const isLoopback = (ip: string): boolean => ip.startsWith('127.');

export const DEFAULT_LIVENESS_INTERVAL_MS = 150;
export const DEFAULT_LOCAL_LIVENESS_INTERVAL_MS = 40;
export const DEFAULT_LIVENESS_TIMEOUT_MS = 1_000;

export interface LivenessOptions {
  clock: Clock;
  logger: Logger;
  /** Period of the connect checks of endpoints on other hosts. */
  intervalMs?: number;
  /** Period of the /proc/net/tcp check of loopback endpoints. */
  localIntervalMs?: number;
  timeoutMs?: number;
  onChange: () => void;
  /** /proc/net/tcp's text (undefined: unreadable, loopback targets are then connected to). */
  readProcTcp?: () => string | undefined;
}

export class EndpointLiveness {
  private targets = new Map<string, LivenessTarget>();
  private readonly deadKeys = new Set<string>();
  private localTimer: Timer | undefined;
  private remoteTimer: Timer | undefined;
  private stopped = false;
  private started = false;
  private readonly watchers: EndpointWatchers;
  private readonly intervalMs: number;
  private readonly localIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly readProcTcp: () => string | undefined;
  /** Whether /proc/net/tcp could be read at construction (Linux): else loopback targets are connected to. */
  private readonly procReadable: boolean;

  constructor(private readonly o: LivenessOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_LIVENESS_INTERVAL_MS;
    this.localIntervalMs = o.localIntervalMs ?? DEFAULT_LOCAL_LIVENESS_INTERVAL_MS;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS;
    this.readProcTcp = o.readProcTcp ?? readProcTcp;
    this.procReadable = this.readProcTcp() !== undefined;
    this.watchers = new EndpointWatchers({ clock: o.clock, onClosed: (key) => void this.checkNow(key) });
  }

  /** A watched target's connection ended: one connect tells whether it died. */
  private async checkNow(key: string): Promise<void> {
    const t = this.targets.get(key);
    if (!t || this.stopped) return;
    this.apply([[key, await this.tcpAlive(t)]]);
    if (this.started && !this.deadKeys.has(key) && this.targets.get(key) === t) this.watchers.watch(key, t);
  }

  /** The targets to check from now on; forgotten ones leave the dead set. */
  setTargets(targets: readonly LivenessTarget[]): void {
    this.targets = new Map(targets.map((t) => [targetKey(t), t] as const));
    for (const k of this.deadKeys) if (!this.targets.has(k)) this.deadKeys.delete(k);
    this.watchers.retain(new Set(this.targets.keys()));
    if (this.started) for (const [key, t] of this.targets) if (!this.deadKeys.has(key)) this.watchers.watch(key, t);
  }

  /** How many targets are watched through an idle connection now. */
  watching(): number {
    return this.watchers.watching();
  }

  /** Keys (`targetKey`) of the targets that failed their last check. */
  dead(): ReadonlySet<string> {
    return this.deadKeys;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const [key, t] of this.targets) if (!this.deadKeys.has(key)) this.watchers.watch(key, t);
    this.armLocal();
    this.armRemote();
  }

  stop(): void {
    this.stopped = true;
    this.watchers.stop();
    if (this.localTimer) this.o.clock.clearTimeout(this.localTimer);
    if (this.remoteTimer) this.o.clock.clearTimeout(this.remoteTimer);
    this.localTimer = undefined;
    this.remoteTimer = undefined;
  }

  private armLocal(): void {
    if (this.stopped) return;
    this.localTimer = this.o.clock.setTimeout(() => {
      this.localRound();
      this.armLocal();
    }, this.localIntervalMs);
  }

  private armRemote(): void {
    if (this.stopped) return;
    this.remoteTimer = this.o.clock.setTimeout(() => {
      void this.remoteRound().finally(() => this.armRemote());
    }, this.intervalMs);
  }

  /** One check of every loopback target against /proc/net/tcp (none when it is unreadable). */
  localRound(): void {
    const local = [...this.targets.entries()].filter(([, t]) => isLoopback(t.ip));
    if (local.length === 0 || !this.procReadable) return; // remoteRound connects to them instead
    const text = this.readProcTcp();
    if (text === undefined) return;
    const listeners = tcpListeners(text);
    this.apply(local.map(([key, t]) => [key, listens(listeners, t.ip, t.port)] as const));
  }

  /** One connect to every target not on loopback (to every target when /proc/net/tcp is unreadable). */
  async remoteRound(): Promise<void> {
    const targets = [...this.targets.entries()].filter(([, t]) => !this.procReadable || !isLoopback(t.ip));
    if (targets.length === 0) return;
    this.apply(await Promise.all(targets.map(async ([key, t]) => [key, await this.tcpAlive(t)] as const)));
  }

  private apply(results: ReadonlyArray<readonly [string, boolean]>): void {
    let changed = false;
    for (const [key, alive] of results) {
      if (!this.targets.has(key)) continue; // forgotten while checked
      if (alive && this.deadKeys.delete(key)) {
        changed = true;
        const t = this.targets.get(key);
        if (t && this.started) this.watchers.watch(key, t);
        this.o.logger.info({ endpoint: key }, 'endpoint answers again; back in the kernel rules');
      } else if (!alive && !this.deadKeys.has(key)) {
        this.deadKeys.add(key);
        this.watchers.unwatch(key);
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

function readProcTcp(): string | undefined {
  try {
    return readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined; // not Linux: loopback targets are connected to like the others
  }
}
