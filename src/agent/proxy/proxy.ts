// The node's Service proxy: watches Services and Endpoints and makes every row of the listener
// table (table.ts) answer, through one of two data planes:
// - nftables (kernel.ts): when the agent runs as root and `nft` works (`mode` 'auto' probes once;
//   'nftables' asks for it), ClusterIP:port and nodeIP:nodePort are DNATed by the
//   kernel to live Ready endpoints of TCP Services; UDP Services and those with session affinity
//   keep userspace listeners (nft-ruleset.ts isKernelListener says why).
// - userspace (the rest of this comment): one TCP or UDP listener per row, balancing over its
//   Ready backends ('userspace', the default: a refused connect is retried on another endpoint,
//   which DNAT cannot do; or 'auto' when nftables cannot be used).
// The machine lock decides who writes the cluster's nftables table exactly as it decides who
// binds the ClusterIP listeners; the holder also sweeps stale tables, in both modes
// (stale-tables.ts).
// Guarantees: the listeners follow the API within one sync after an informer event (well under a
// second); a listener is updated in place when only its backends change; one whose Service went
// away is closed and its connections ended. The bind is the lock between agents of one machine:
// the agents of one cluster on one machine share a machine lock (machine-lock.ts); the one that
// holds it binds every ClusterIP listener, the others stand by and try the lock (one cheap bind)
// every `bindRetryMs`, so when the holder dies a neighbour serves within that delay. A ClusterIP
// listener that is still taken (EADDRINUSE: a holder shutting down, or another cluster with an
// overlapping range) is tried again every `bindRetryMs` too; without a lock (not Linux) every
// listener contends that way on its own. NodePort listeners are on the node's own IP and are
// always bound. Every proxy computes the same table from the API, so whoever holds the ClusterIP
// listeners serves the same backends — except under traffic policy Local, where "local" is the
// holder's node. Syncs and bind retries run one at a time. Nothing is listened on before both
// informers have their first list.
// Does not: iptables; source-address preservation in userspace (backends see the proxy's
// address; through the kernel they see the client's); metrics.
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient } from '../../client/api-client.js';
import { Informer } from '../../client/informer.js';
import { resource } from '../../client/resources.js';
import { systemClock, type Clock, type Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { LoopbackAddressHost, type ServiceAddressHost } from './address-host.js';
import { machineLock, type MachineLock } from './machine-lock.js';
import { DEFAULT_LISTENER_OPTIONS, type ListenerOptions, type ProxyListener } from './listener.js';
import { KernelDataPlane } from './kernel.js';
import { NftCommand, probeNft, type NftRunner } from './nft.js';
import { clusterTable, deleteScript, isKernelListener } from './nft-ruleset.js';
import { StaleTableSweeper } from './stale-tables.js';
import { planListeners } from './plan.js';
import { listenerTable, type ListenerSpec } from './table.js';
import { TcpListener } from './tcp.js';
import { UdpListener } from './udp.js';

type ServiceObj = Service & KubeObject;
type EndpointsObj = Endpoints & KubeObject;

export interface ServiceProxyOptions {
  client: ApiClient;
  nodeName: string;
  nodeIp: string;
  logger: Logger;
  clock?: Clock;
  /** Where ClusterIPs live (default: loopback, nothing to do). */
  addressHost?: ServiceAddressHost;
  /**
   * What names this cluster (the agent passes its CA): the agents of one cluster on one machine
   * share the machine lock named after it. Without it (or with `lock: false`) every ClusterIP
   * listener contends by its own bind.
   */
  clusterKey?: string;
  /** A lock of one's own (tests), or false for none. */
  lock?: MachineLock | false;
  /** How often a listener held elsewhere (or failing to bind) is tried again: the takeover delay. */
  bindRetryMs?: number;
  connectTimeoutMs?: number;
  udpIdleMs?: number;
  maxUdpFlows?: number;
  /** The data plane (default 'userspace'; 'auto': nftables when root and nft works and there is a machine lock). */
  mode?: ProxyMode;
  /** How nft is run (tests may wrap it). */
  nft?: NftRunner;
  /** How often the kernel data plane checks the endpoints it writes (default 150 ms). */
  livenessIntervalMs?: number;
  /** How often the lock holder sweeps stale kernel tables of this machine (default 1 s). */
  sweepEveryMs?: number;
}

export const PROXY_MODES = ['auto', 'nftables', 'userspace'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];
/** The data plane a running proxy uses. */
export type DataPlane = 'nftables' | 'userspace';

/** What the agent's caller may tune (`AgentOptions.proxy`). */
export type ServiceProxySettings = Pick<ServiceProxyOptions, 'addressHost' | 'lock' | 'bindRetryMs' | 'connectTimeoutMs' | 'udpIdleMs' | 'maxUdpFlows' | 'mode' | 'nft' | 'livenessIntervalMs' | 'sweepEveryMs'>;

export const DEFAULT_BIND_RETRY_MS = 250;
/** A first list refused for good (401/403) is tried again this often with a new informer. */
const INFORMER_RETRY_MS = 10_000;
const DEFAULT_SWEEP_EVERY_MS = 1_000;

export interface ListenerStatus {
  key: string;
  service: string;
  scope: ListenerSpec['scope'];
  /**
   * userspace: this proxy listens (false: another agent of this machine holds it, or the bind
   * fails); nftables: this agent's rules for it are in the kernel.
   */
  bound: boolean;
  /** The backends it balances over (nftables: the live ones written in the rules). */
  backends: string[];
  dataPlane: DataPlane;
}

interface Held {
  listener: ProxyListener;
  /** The last bind outcome logged (so standing by or an error is logged once, not every retry). */
  logged: string | undefined;
}

export class ServiceProxy {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly host: ServiceAddressHost;
  private readonly listenerOpts: ListenerOptions;
  private readonly bindRetryMs: number;
  private readonly held = new Map<string, Held>();
  private readonly badAddresses = new Map<string, string>();
  private services: Informer<ServiceObj> | undefined;
  private endpoints: Informer<EndpointsObj> | undefined;
  private synced = false;
  private stopped = false;
  private tick: Timer | undefined;
  private chain: Promise<void> = Promise.resolve();
  private syncQueued = false;
  private lock: MachineLock | undefined;
  private lockLogged: boolean | undefined;
  private kernel: KernelDataPlane | undefined;
  private plane: DataPlane | undefined;
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** userspace mode with nft usable: the cluster table to delete when this proxy takes the lock, and the stale-table sweep. */
  private leftover: { nft: NftRunner; table: string; sweeper: StaleTableSweeper } | undefined;

  constructor(private readonly o: ServiceProxyOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger;
    this.host = o.addressHost ?? new LoopbackAddressHost();
    this.bindRetryMs = o.bindRetryMs ?? DEFAULT_BIND_RETRY_MS;
    this.lock = o.lock === false ? undefined : o.lock ?? (o.clusterKey !== undefined ? machineLock(o.clusterKey, o.logger) : undefined);
    this.listenerOpts = {
      clock: this.clock, logger: this.log,
      connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_LISTENER_OPTIONS.connectTimeoutMs,
      udpIdleMs: o.udpIdleMs ?? DEFAULT_LISTENER_OPTIONS.udpIdleMs,
      maxUdpFlows: o.maxUdpFlows ?? DEFAULT_LISTENER_OPTIONS.maxUdpFlows,
    };
  }

  /**
   * Starts the informers (retried until the API answers) and the bind-retry tick. Resolves once
   * the first table was applied, or rejects when stopped first; callers need not wait for it.
   */
  async start(): Promise<void> {
    this.plane = await this.chooseDataPlane();
    if (this.stopped) return;
    const [services, endpoints] = await Promise.all([
      this.startInformer<ServiceObj>('services', (i) => (this.services = i)),
      this.startInformer<EndpointsObj>('endpoints', (i) => (this.endpoints = i)),
    ]);
    if (this.stopped) return;
    this.services = services;
    this.endpoints = endpoints;
    this.synced = true;
    this.schedule();
    this.armTick();
    await this.chain;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.services?.stop();
    this.endpoints?.stop();
    if (this.tick) this.clock.clearTimeout(this.tick);
    this.tick = undefined;
    await this.serial(async () => {
      const ips = new Set<string>();
      for (const [key, h] of this.held) {
        if (h.listener.spec.scope === 'cluster') ips.add(h.listener.spec.ip);
        this.held.delete(key);
        await h.listener.close();
      }
      for (const ip of ips) await this.removeAddress(ip);
      const lock = this.lock;
      if (this.kernel) {
        await this.kernel.stop(lock?.held === true, async () => lock?.release(), async () => (lock ? lock.tryAcquire() : false));
      } else await lock?.release();
    });
  }

  /** The data plane in use ('userspace' until start() chose). */
  dataPlane(): DataPlane {
    return this.plane ?? 'userspace';
  }

  /** What this proxy has now (bound or standing by), sorted by key. */
  status(): ListenerStatus[] {
    const rows: ListenerStatus[] = [...this.held.values()].map(({ listener: l }) => ({
      key: l.key, service: l.spec.service, scope: l.spec.scope, bound: l.bound, backends: l.spec.backends.map((b) => b.key), dataPlane: 'userspace' as const,
    }));
    for (const { spec, programmed } of this.kernel?.served() ?? []) {
      rows.push({ key: spec.key, service: spec.service, scope: spec.scope, bound: programmed !== undefined, backends: (programmed ?? spec).backends.map((b) => b.key), dataPlane: 'nftables' });
    }
    return rows.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /** nftables when asked or allowed (auto) and usable: root, nft works, a cluster key and a machine lock. */
  private async chooseDataPlane(): Promise<DataPlane> {
    const mode = this.o.mode ?? 'userspace';
    if (mode === 'userspace') {
      // A holder in userspace mode still removes its cluster's table left by an nftables-mode
      // holder that died, and sweeps the stale tables of other clusters and nodes, or their
      // DNATs would take the traffic to the same addresses before the listeners see it.
      if (this.o.clusterKey !== undefined && this.lock) {
        const nft = this.o.nft ?? new NftCommand();
        if ((await probeNft(nft)).ok) this.leftover = { nft, table: clusterTable(this.o.clusterKey).table, sweeper: new StaleTableSweeper(nft, this.log) };
      }
      return 'userspace';
    }
    const refuse = (reason: string): DataPlane => {
      if (mode === 'nftables') this.log.error({ reason }, 'nftables proxy mode asked for but unusable; serving Services in userspace');
      else this.log.info({ reason }, 'Service proxy in userspace mode');
      return 'userspace';
    };
    if (this.o.clusterKey === undefined || !this.lock) return refuse('no machine lock (no cluster key, or not Linux)');
    const nft = this.o.nft ?? new NftCommand();
    const probe = await probeNft(nft);
    if (!probe.ok) return refuse(probe.reason);
    // stop() may have run while nft was probed: it found no kernel plane to stop, so none may start.
    if (this.stopped) return 'userspace';
    this.kernel = new KernelDataPlane({
      nft, clusterKey: this.o.clusterKey, nodeName: this.o.nodeName, clock: this.clock, logger: this.log,
      handoverMs: 2 * this.bindRetryMs + 100,
      ...(this.o.livenessIntervalMs !== undefined ? { livenessIntervalMs: this.o.livenessIntervalMs } : {}),
      onLivenessChange: () => this.scheduleKernel(),
    });
    this.kernel.start();
    this.log.info({ clusterTable: this.kernel.clusterTableName, nodeTable: this.kernel.nodeTableName }, 'Service proxy in nftables mode');
    return 'nftables';
  }

  /** A kernel reconcile after an endpoint's liveness changed. */
  private scheduleKernel(): void {
    if (this.stopped || !this.kernel) return;
    void this.serial(async () => {
      if (!this.stopped) await this.kernel?.reconcile(await this.holdsClusterLock());
    });
  }

  private async holdsClusterLock(): Promise<boolean> {
    return (await this.holdLock()) && this.lock !== undefined;
  }

  private async startInformer<T extends KubeObject>(plural: string, current: (i: Informer<T>) => void): Promise<Informer<T>> {
    for (;;) {
      const inf = new Informer<T>(this.o.client, resource('', plural), { logger: this.log, clock: this.clock });
      inf.on({ add: () => this.schedule(), update: () => this.schedule(), delete: () => this.schedule() });
      current(inf);
      try {
        await inf.start();
        return inf;
      } catch (err) {
        if (this.stopped) throw err;
        this.log.error({ err, resource: plural, retryMs: INFORMER_RETRY_MS }, 'service proxy cannot list; retrying');
        await new Promise<void>((r) => this.clock.setTimeout(r, INFORMER_RETRY_MS));
        if (this.stopped) throw err;
      }
    }
  }

  /** Runs `fn` after every earlier sync or retry: the held map is changed by one task at a time. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn).catch((err: unknown) => this.log.error({ err }, 'service proxy sync failed'));
    this.chain = run;
    return run;
  }

  /** One sync for any number of events that arrive while one is queued. */
  private schedule(): void {
    if (!this.synced || this.stopped || this.syncQueued) return;
    this.syncQueued = true;
    void this.serial(async () => {
      this.syncQueued = false;
      await this.sync();
    });
  }

  private armTick(): void {
    if (this.stopped) return;
    this.tick = this.clock.setTimeout(() => {
      void this.serial(async () => {
        const now = this.clock.now();
        const holding = await this.holdLock();
        for (const h of this.held.values()) {
          h.listener.sweep(now);
          if (!h.listener.bound && !this.stopped && (holding || h.listener.spec.scope === 'node')) await this.bind(h);
        }
        const cluster = holding && this.lock !== undefined;
        if (this.kernel && !this.stopped) await this.kernel.reconcile(cluster);
        const sweepDue = now - this.lastSweep >= (this.o.sweepEveryMs ?? DEFAULT_SWEEP_EVERY_MS);
        if (cluster && sweepDue && !this.stopped && (this.kernel || this.leftover)) {
          this.lastSweep = now;
          if (this.kernel) await this.kernel.sweep();
          else await this.leftover?.sweeper.sweep(new Set([this.leftover.table]));
        }
      }).finally(() => this.armTick());
    }, this.bindRetryMs);
  }

  private async sync(): Promise<void> {
    if (this.stopped || !this.services || !this.endpoints) return;
    const table = listenerTable({ services: this.services.list(), endpoints: this.endpoints.list(), nodeName: this.o.nodeName, nodeIp: this.o.nodeIp });
    // In nftables mode the kernel serves the TCP listeners without session affinity.
    const desired = this.kernel ? table.filter((s) => !isKernelListener(s)) : table;
    this.kernel?.setDesired(table.filter(isKernelListener));
    const have = new Map<string, ListenerSpec>();
    for (const [k, h] of this.held) have.set(k, h.listener.spec);
    const plan = planListeners(desired, have);
    for (const key of plan.close) {
      const h = this.held.get(key);
      if (!h) continue;
      this.held.delete(key);
      const wasBound = h.listener.bound;
      await h.listener.close();
      if (wasBound) this.log.info({ listener: key, service: h.listener.spec.service }, 'proxy listener closed');
    }
    for (const ip of plan.removeAddresses) await this.removeAddress(ip);
    const unusable = new Set<string>();
    for (const ip of plan.addAddresses) if (!(await this.addAddress(ip))) unusable.add(ip);
    for (const spec of plan.update) {
      const h = this.held.get(spec.key);
      if (!h) continue;
      h.listener.update(spec);
      this.log.debug({ listener: spec.key, backends: spec.backends.length }, 'proxy listener updated');
    }
    const holding = await this.holdLock();
    for (const spec of plan.open) {
      if (unusable.has(spec.ip)) continue; // tried again at the next sync
      const listener = spec.protocol === 'TCP' ? new TcpListener(spec, this.listenerOpts) : new UdpListener(spec, this.listenerOpts);
      const h: Held = { listener, logged: undefined };
      this.held.set(spec.key, h);
      if (holding || spec.scope === 'node') await this.bind(h);
    }
    if (this.kernel) await this.kernel.reconcile(holding && this.lock !== undefined);
  }

  /** Whether this proxy may bind ClusterIP listeners now: it holds the machine lock, or there is none. */
  private async holdLock(): Promise<boolean> {
    const lock = this.lock;
    if (!lock || this.stopped) return !this.stopped;
    let held: boolean;
    try {
      held = await lock.tryAcquire();
    } catch (err) {
      this.log.warn({ err, lock: lock.name }, 'proxy machine lock unusable; every ClusterIP listener contends on its own');
      this.lock = undefined;
      return true;
    }
    if (held && this.lockLogged !== true && this.leftover) {
      try {
        await this.leftover.nft.apply(deleteScript(this.leftover.table));
      } catch (err) {
        this.log.error({ err, table: this.leftover.table }, 'cannot delete the kernel proxy table an nftables-mode holder left');
      }
    }
    if (this.lockLogged !== held) {
      if (held) this.log.info({ lock: lock.name }, 'proxy serves the ClusterIP listeners of this machine');
      else this.log.info({ lock: lock.name }, 'another agent on this machine serves the ClusterIP listeners; standing by');
    }
    this.lockLogged = held;
    return held;
  }

  private async bind(h: Held): Promise<void> {
    const l = h.listener;
    let outcome: string;
    try {
      outcome = await l.bind();
    } catch (err) {
      outcome = (err as NodeJS.ErrnoException).code ?? String(err);
      if (h.logged !== outcome) this.log.warn({ err, listener: l.key, service: l.spec.service, retryMs: this.bindRetryMs }, 'proxy listener cannot bind; retrying');
      h.logged = outcome;
      return;
    }
    if (h.logged === outcome) return;
    h.logged = outcome;
    const fields = { listener: l.key, service: l.spec.service, scope: l.spec.scope, backends: l.spec.backends.length };
    if (outcome === 'bound') this.log.info(fields, 'proxy listening');
    else this.log.info(fields, 'proxy listener address:port is taken (another agent or program on this machine); retrying');
  }

  private async addAddress(ip: string): Promise<boolean> {
    try {
      await this.host.add(ip);
      this.badAddresses.delete(ip);
      return true;
    } catch (err) {
      const msg = (err as Error).message;
      if (this.badAddresses.get(ip) !== msg) this.log.error({ err, ip }, 'cannot host ClusterIP; its listeners stay closed');
      this.badAddresses.set(ip, msg);
      return false;
    }
  }

  private async removeAddress(ip: string): Promise<void> {
    try {
      await this.host.remove(ip);
    } catch (err) {
      this.log.error({ err, ip }, 'cannot remove ClusterIP from the address host');
    }
  }
}
