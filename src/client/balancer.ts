// The client-side balancer: the set of API servers a client may use, kept current and healthy.
// Seeded from the configured server (plus the list remembered on disk), it learns the others from
// the `default/kubernetes` Endpoints (every `refreshMs`), probes each one's `/readyz` every
// `probeIntervalMs` with a short timeout under the client's own identity, and hears from the
// clients that use it (connect failures, silent watches, answers). The decisions are
// balancer-plan.ts; this module does the I/O around them.
// Guarantees: `pick()` never returns a server marked down while another one is up; a server
// marked down has its clients' sockets destroyed at once (onDown); with every server down,
// requests try each in turn and the probes keep trying all of them; the remembered list is
// rewritten (0600, write-then-rename) whenever the set of servers changes, and a damaged file is
// logged and ignored, never fatal. Does not: spread load (one current server at a time), verify
// that learned servers belong to the same cluster beyond the CA every request checks, or follow
// Endpoints faster than `refreshMs`.
import https from 'node:https';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TriremeError } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { writePrivateFile } from '../util/private-file.js';
import { ApiClient } from './api-client.js';
import {
  DEFAULT_PLAN_CONFIG, choose, endpointUrls, initialState, normalizeServerUrl, observe,
  type BalancerState, type Observation, type PlanConfig,
} from './balancer-plan.js';
import type { ClientConfig, ServerChooser } from './config.js';
import { resource } from './resources.js';

const ENDPOINTS = resource('', 'endpoints');

export interface BalancerOptions {
  /** The server the user configured (`--server`, a kubeconfig): kept whatever Endpoints say. */
  seed: string;
  /** Used whenever it is up (an in-process client's own server); never dropped either. */
  preferred?: string;
  /** The identity probes and the Endpoints reads use (its `server` and `balancer` are ignored). */
  identity: ClientConfig;
  /** Where the list of servers is remembered (read at open, rewritten on change). */
  stateFile?: string;
  logger?: Logger;
  clock?: Clock;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  refreshMs?: number;
  plan?: Partial<PlanConfig>;
}

export interface ServerView {
  url: string;
  up: boolean;
  current: boolean;
}

/** The remembered list: `{ "servers": [url, …] }`. Undefined (and logged) when absent or unusable. */
export async function readRememberedServers(file: string, log: Logger = silentLogger): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err: e, file }, 'cannot read the remembered API servers; ignoring them');
    return undefined;
  }
  try {
    const doc = JSON.parse(text) as { servers?: unknown };
    if (!Array.isArray(doc.servers)) throw new TriremeError('Invalid', 'no "servers" list');
    return doc.servers.map((s) => (typeof s === 'string' ? normalizeServerUrl(s) : undefined)).filter((s): s is string => s !== undefined);
  } catch (e) {
    log.warn({ err: e, file }, 'the remembered API servers file is damaged; ignoring it');
    return undefined;
  }
}

export class ServerBalancer implements ServerChooser {
  private state: BalancerState;
  private readonly cfg: PlanConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly listeners = new Set<(server: string) => void>();
  private readonly probeAgent: https.Agent;
  private readonly reader: ApiClient;
  private readonly probing = new Set<string>();
  private probeTimer: Timer | undefined;
  private refreshTimer: Timer | undefined;
  private running = false;
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: BalancerOptions, remembered: readonly string[]) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.cfg = { ...DEFAULT_PLAN_CONFIG, ...opts.plan };
    const seed = normalizeServerUrl(opts.seed);
    if (!seed) throw new TriremeError('BadRequest', `the API server URL ${JSON.stringify(opts.seed)} is not an https URL`);
    const preferred = opts.preferred === undefined ? undefined : normalizeServerUrl(opts.preferred);
    this.state = initialState(seed, remembered, this.clock.now(), preferred);
    const id = opts.identity;
    this.probeAgent = new https.Agent({
      keepAlive: true, maxSockets: 1, ca: id.caPem, ...(id.certPem && id.keyPem ? { cert: id.certPem, key: id.keyPem } : {}),
    });
    this.reader = new ApiClient({ ...id, server: seed, balancer: this, userAgent: `${id.userAgent ?? 'trireme'}/balancer` }, { logger: this.log, maxSockets: 1, requestTimeoutMs: 5000 });
  }

  /** A balancer over the seed and the servers remembered in `stateFile` (not yet probing: call start()). */
  static async open(opts: BalancerOptions): Promise<ServerBalancer> {
    const log = opts.logger ?? silentLogger;
    const remembered = opts.stateFile ? await readRememberedServers(opts.stateFile, log) : undefined;
    if (remembered?.length) log.info({ servers: remembered, file: opts.stateFile }, 'remembered API servers');
    return new ServerBalancer(opts, remembered ?? []);
  }

  /** Starts the probes and the Endpoints refresh. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.probeAll();
    void this.refresh();
  }

  stop(): void {
    this.running = false;
    if (this.probeTimer) this.clock.clearTimeout(this.probeTimer);
    if (this.refreshTimer) this.clock.clearTimeout(this.refreshTimer);
    this.probeTimer = undefined;
    this.refreshTimer = undefined;
    this.reader.close();
    this.probeAgent.destroy();
  }

  /** Waits for pending writes of the remembered list (for tests and shutdown). */
  flushed(): Promise<void> {
    return this.saving;
  }

  servers(): ServerView[] {
    return this.state.servers.map((s) => ({ url: s.url, up: s.up, current: s.url === this.state.current }));
  }

  current(): string | undefined {
    return this.state.current;
  }

  // ---- ServerChooser ----

  pick(tried: ReadonlySet<string>): string | undefined {
    return choose(this.state, tried);
  }

  reportConnectFailure(server: string, err: Error): void {
    this.apply({ kind: 'connect-failed', url: server, at: this.clock.now() }, err.message);
  }

  reportSilence(server: string): void {
    this.apply({ kind: 'silent', url: server, at: this.clock.now() }, 'a watch heard nothing, not even its heartbeat');
  }

  reportAnswered(server: string): void {
    // The common case, once per request: nothing to change.
    if (this.state.servers.some((s) => s.url === server && s.up)) return;
    this.apply({ kind: 'answered', url: server, at: this.clock.now() });
  }

  onDown(fn: (server: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ---- the loops ----

  private apply(obs: Observation, why?: string): void {
    const before = this.state.current;
    const t = observe(this.state, obs, this.cfg);
    this.state = t.state;
    for (const url of t.wentDown) {
      this.log.warn({ server: url, reason: why }, 'API server marked down');
      for (const fn of this.listeners) {
        try {
          fn(url);
        } catch (err) {
          this.log.error({ err, server: url }, 'balancer listener threw');
        }
      }
    }
    for (const url of t.wentUp) this.log.info({ server: url }, 'API server marked up');
    if (t.added.length || t.removed.length) {
      this.log.info({ added: t.added, removed: t.removed, servers: this.state.servers.map((s) => s.url) }, 'API servers changed');
      this.save();
    }
    if (before !== this.state.current) this.log.info({ from: before, to: this.state.current }, 'using another API server');
  }

  private save(): void {
    const file = this.opts.stateFile;
    if (!file) return;
    const text = JSON.stringify({ servers: this.state.servers.map((s) => s.url) }, null, 2) + '\n';
    this.saving = this.saving
      .then(async () => {
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
        await writePrivateFile(file, text);
      })
      .catch((err: unknown) => this.log.error({ err, file }, 'cannot remember the API servers'));
  }

  private probeAll(): void {
    if (!this.running) return;
    for (const s of this.state.servers) {
      if (this.probing.has(s.url)) continue; // the previous probe has not timed out yet
      this.probing.add(s.url);
      void this.probe(s.url).then((ok) => {
        this.probing.delete(s.url);
        if (this.running && this.state.servers.some((x) => x.url === s.url)) this.apply({ kind: 'probe', url: s.url, ok: ok === true, at: this.clock.now() }, ok === true ? undefined : ok);
      });
    }
    this.probeTimer = this.clock.setTimeout(() => this.probeAll(), this.opts.probeIntervalMs ?? 1000);
  }

  /** GET /readyz as this client: true when it answers 200, else why not. */
  private probe(server: string): Promise<true | string> {
    const timeoutMs = this.opts.probeTimeoutMs ?? 1000;
    const id = this.opts.identity;
    return new Promise((resolve) => {
      const u = new URL(`${server}/readyz`);
      const req = https.request({
        protocol: 'https:', hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || 443, path: u.pathname, method: 'GET', agent: this.probeAgent,
        headers: { 'User-Agent': `${id.userAgent ?? 'trireme'}/balancer-probe`, ...(id.token ? { Authorization: `Bearer ${id.token}` } : {}) },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? true : `/readyz answered ${res.statusCode ?? 0}`));
        res.on('error', (e) => resolve(e.message));
      });
      const timer = this.clock.setTimeout(() => req.destroy(new Error(`/readyz did not answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => resolve(e.message));
      req.on('close', () => this.clock.clearTimeout(timer));
      req.end();
    });
  }

  private async refresh(): Promise<void> {
    if (!this.running) return;
    try {
      const ep = await this.reader.get(ENDPOINTS, 'default', 'kubernetes');
      if (this.running) this.apply({ kind: 'endpoints', urls: endpointUrls(ep), at: this.clock.now() });
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'cannot read the default/kubernetes Endpoints; keeping the known servers');
    }
    if (this.running) this.refreshTimer = this.clock.setTimeout(() => void this.refresh(), this.opts.refreshMs ?? 3000);
  }
}

/**
 * A config whose clients balance over the servers of a running `trireme server`, its own server
 * first: one balancer shared by every in-process component (start it once, stop it at shutdown).
 */
export async function localFirstBalancer(opts: { localServer: string; identity: ClientConfig; stateFile?: string; logger?: Logger; clock?: Clock }): Promise<ServerBalancer> {
  return ServerBalancer.open({ seed: opts.localServer, preferred: opts.localServer, identity: opts.identity, stateFile: opts.stateFile, logger: opts.logger, clock: opts.clock });
}

/** The same config, its clients going through `balancer`. */
export function balancedConfig(config: ClientConfig, balancer: ServerBalancer): ClientConfig {
  return { ...config, balancer };
}
