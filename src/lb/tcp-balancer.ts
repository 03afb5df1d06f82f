// `trireme lb`'s engine: a TCP balancer in front of API servers. Each client connection is piped
// byte for byte to one backend, so TLS passes through untouched (kubectl's client certificate
// reaches the API server, which authenticates it). Backends are checked actively
// (`GET /readyz`, readyz-check.ts) and judged by health-plan.ts.
//
// Guarantees:
// - no client byte is read before a backend connection is up (the client socket is paused on
//   accept), so a connect failure is retried on the next backend (each backend at most once
//   per client connection) without losing anything; the failed backend is marked down at once;
// - a backend that health checks take down has its sessions cut (as HAProxy's
//   `on-marked-down shutdown-sessions`), so watches on a hung or unreachable server end at once
//   and clients reconnect through the balancer to a live one;
// - TCP keepalive (and no Nagle) on both sockets of every session; connects time out;
// - per-backend counts of active and total sessions and connect failures (`stats()`);
// - `stop(graceMs)`: stops accepting at once, lets sessions end by themselves for `graceMs`,
//   then cuts the rest, and stops the checks; it resolves when every socket is closed.
// Does not: look inside the bytes (no HTTP routing, no TLS termination), retry once a session
// carried data (a broken session is the client's to retry), or keep state across restarts.
// Node 20 sets only the keepalive idle time per socket; probe interval and count are the
// kernel's (net.ipv4.tcp_keepalive_intvl/probes): the health checks are what detect a dead
// backend within seconds.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { TriremeError } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { BackendAddress, HostPort } from './endpoints.js';
import { checkThresholds, DEFAULT_THRESHOLDS, initialHealth, observeCheck, observeConnectFailure, pickBackend, type BackendHealth, type Observed, type Thresholds } from './health-plan.js';

export interface BalancerOptions {
  listen: HostPort;
  backends: readonly BackendAddress[];
  /** One active check of a backend: undefined = healthy, otherwise the reason. */
  check: (backend: BackendAddress) => Promise<string | undefined>;
  logger: Logger;
  thresholds?: Thresholds;
  /** Pause between two checks of one backend (default 1000 ms). */
  checkIntervalMs?: number;
  /** A backend connect that takes longer fails (default 2000 ms). */
  connectTimeoutMs?: number;
  /** TCP keepalive idle time on both sockets (default 1000 ms). */
  keepAliveMs?: number;
  clock?: Clock;
}

export interface BackendStats {
  name: string;
  url: string;
  state: BackendHealth['state'];
  active: number;
  total: number;
  connectFailures: number;
  lastError?: string;
}

export interface RunningBalancer {
  host: string;
  port: number;
  stats(): BackendStats[];
  /** Resolves once every backend has had one check result (or `timeoutMs` passed). */
  firstChecks(timeoutMs: number): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

interface BackendSlot {
  address: BackendAddress;
  health: BackendHealth;
  sessions: Set<Session>;
  total: number;
  connectFailures: number;
  checked: boolean;
}

interface Session {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startTcpBalancer(opts: BalancerOptions): Promise<RunningBalancer> {
  if (opts.backends.length === 0) throw new TriremeError('Invalid', 'the balancer needs at least one backend');
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const thresholds = checkThresholds(opts.thresholds ?? DEFAULT_THRESHOLDS);
  const interval = opts.checkIntervalMs ?? 1000;
  const connectTimeout = opts.connectTimeoutMs ?? 2000;
  const keepAlive = opts.keepAliveMs ?? 1000;
  const slots: BackendSlot[] = opts.backends.map((address) => ({
    address, health: initialHealth(clock.now()), sessions: new Set(), total: 0, connectFailures: 0, checked: false,
  }));
  const pending = new Set<net.Socket>();
  let cursor = 0;
  let stopping = false;
  const timers = new Map<BackendSlot, Timer>();
  const checkedWaiters: (() => void)[] = [];

  const apply = (slot: BackendSlot, o: Observed): void => {
    slot.health = o.health;
    const t = o.transition;
    if (!t) return;
    log.info({ backend: slot.address.url, from: t.from, to: t.to, reason: t.reason, error: o.health.lastError, active: slot.sessions.size }, `backend ${slot.address.url} is ${t.to}`);
    // A check that failed `fall` times means the server hangs or is cut off: its sessions would
    // wait for TCP to notice. A refused connect needs no cut: the kernel reset them already.
    if (t.to === 'down' && t.reason === 'check') {
      for (const s of slot.sessions) {
        s.client.destroy();
        s.upstream.destroy();
      }
    }
  };

  const runCheck = async (slot: BackendSlot): Promise<void> => {
    if (stopping) return;
    const error = await opts.check(slot.address);
    if (stopping) return;
    apply(slot, observeCheck(slot.health, error, clock.now(), thresholds));
    if (!slot.checked) {
      slot.checked = true;
      if (slots.every((s) => s.checked)) for (const w of checkedWaiters.splice(0)) w();
    }
    timers.set(slot, clock.setTimeout(() => void runCheck(slot), interval));
  };

  const connectTo = (client: net.Socket, tried: Set<number>): void => {
    if (stopping || client.destroyed) {
      client.destroy();
      pending.delete(client);
      return;
    }
    const i = pickBackend(slots.map((s) => ({ state: s.health.state, active: s.sessions.size })), tried, cursor);
    cursor = (cursor + 1) % slots.length;
    if (i === undefined) {
      log.warn({ client: client.remoteAddress, tried: tried.size }, 'no backend could be reached; closing the client connection');
      client.destroy();
      pending.delete(client);
      return;
    }
    tried.add(i);
    const slot = slots[i]!;
    const upstream = net.connect({ host: slot.address.host, port: slot.address.port, allowHalfOpen: true });
    upstream.setTimeout(connectTimeout);
    const onFail = (err: Error | undefined) => {
      client.off('close', onClientGone);
      upstream.removeAllListeners();
      upstream.on('error', () => undefined);
      upstream.destroy();
      const reason = err ? ((err as NodeJS.ErrnoException).code ?? err.message) : `connect timed out after ${connectTimeout} ms`;
      slot.connectFailures++;
      log.warn({ backend: slot.address.url, error: reason }, 'backend connect failed; trying the next one');
      apply(slot, observeConnectFailure(slot.health, reason, clock.now()));
      connectTo(client, tried);
    };
    const onClientGone = () => {
      upstream.destroy();
      pending.delete(client);
    };
    client.once('close', onClientGone);
    upstream.once('error', onFail);
    upstream.once('timeout', () => onFail(undefined));
    upstream.once('connect', () => {
      client.off('close', onClientGone);
      upstream.removeAllListeners('error');
      upstream.removeAllListeners('timeout');
      upstream.setTimeout(0);
      pending.delete(client);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      splice(slot, client, upstream);
    });
  };

  const splice = (slot: BackendSlot, client: net.Socket, upstream: net.Socket): void => {
    upstream.setKeepAlive(true, keepAlive);
    upstream.setNoDelay(true);
    const session: Session = { client, upstream };
    slot.sessions.add(session);
    slot.total++;
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) slot.sessions.delete(session);
      end();
    };
    // Errors end both sides; a clean end (FIN) is forwarded by pipe, half-close included.
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', onClose);
    upstream.on('close', onClose);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };

  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    if (stopping) {
      client.destroy();
      return;
    }
    client.setKeepAlive(true, keepAlive);
    client.setNoDelay(true);
    client.on('error', () => undefined); // a reset before the session exists: nothing to forward
    pending.add(client);
    connectTo(client, new Set());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'balancer listener failed'));
  const bound = server.address() as AddressInfo;
  for (const slot of slots) void runCheck(slot);

  const stats = (): BackendStats[] => slots.map((s) => ({
    name: s.address.name, url: s.address.url, state: s.health.state, active: s.sessions.size, total: s.total,
    connectFailures: s.connectFailures, ...(s.health.lastError !== undefined ? { lastError: s.health.lastError } : {}),
  }));

  return {
    host: bound.address,
    port: bound.port,
    stats,
    firstChecks: (timeoutMs) => new Promise<void>((resolve) => {
      if (slots.every((s) => s.checked)) return resolve();
      const t = clock.setTimeout(resolve, timeoutMs);
      checkedWaiters.push(() => {
        clock.clearTimeout(t);
        resolve();
      });
    }),
    async stop(graceMs = 5000) {
      if (stopping) return;
      stopping = true;
      for (const t of timers.values()) clock.clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of pending) c.destroy();
      const sessions = () => slots.flatMap((s) => [...s.sessions]);
      // Sessions end by themselves within the grace, or are cut; either way stop() returns
      // once their sockets have closed (a destroyed socket closes on the next ticks).
      let cut = false;
      const cutTimer = clock.setTimeout(() => {
        cut = true;
        for (const s of sessions()) end(s);
      }, graceMs);
      const deadline = clock.now() + graceMs + 2000;
      while (sessions().length > 0 && clock.now() < deadline) {
        if (cut) for (const s of sessions()) end(s);
        await new Promise<void>((r) => clock.setTimeout(r, 20));
      }
      clock.clearTimeout(cutTimer);
      await closed;
      log.info({ stats: stats() }, 'balancer stopped');
    },
  };
}

function end(s: Session): void {
  s.client.destroy();
  s.upstream.destroy();
}
