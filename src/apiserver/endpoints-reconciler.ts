// Keeps this API server in `default/kubernetes` Endpoints while it lives (Kubernetes' lease
// endpoint reconciler). On a shared store (etcd), every server renews a Lease of its own in
// kube-system every `renewMs` and, on each renewal, rewrites the Endpoints from the leases it
// observes live (endpoints-plan.ts decides; liveness by this server's observation time).
// Guarantees:
// - Endpoints writes are compare-and-swap on the revision read, retried on a lost race, and
//   only when the planned subsets differ, so several servers reconciling converge.
// - An address not listed yet is added only after a store read (linearizable on etcd) taken
//   after the Endpoints read shows its lease still exists; so a server that deleted its lease
//   and then removed itself (a graceful `stop()`) cannot be written back by a slower peer.
// - `stop()` deletes this server's lease and removes its address before it resolves; a killed
//   server drops out once its lease has looked unchanged for `ttlMs` to the others.
// - On a store only this process writes (SQLite) there is one server: the Endpoints are set to
//   this server's address once at start, with no lease and no timer.
// Does not: delete the leases of dead servers (they stay, unchanged, and are ignored); guard
// against a paused server whose lease looks unchanged for ttl (it is dropped, then re-added
// when it renews again); fence its writes (in-process registry writes, and leases are exempt).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import { RESOURCES, type ResourceInfo } from '../api/resources.js';
import { DEFAULT_NAMESPACE, SYSTEM_NAMESPACE } from '../api/namespaces.js';
import { microTime } from '../api/time.js';
import { TriremeError, isTriremeError } from '../errors.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { jsonEqual } from './object-meta.js';
import type { Registry } from './registry.js';
import {
  ADDRESS_ANNOTATION, ENDPOINT_LEASE_LABEL, PORT_ANNOTATION, endpointLeaseName, listedServers, observeLeases, planEndpoints,
  serverKey, type ObservedLease, type PlanInput, type ServerAddress,
} from './endpoints-plan.js';

export const DEFAULT_ENDPOINT_RENEW_MS = 1_000;
export const DEFAULT_ENDPOINT_TTL_MS = 5_000;
const SERVICE_NAME = 'kubernetes';
/** Lost compare-and-swaps of one Endpoints write before the tick gives up (the next tick retries). */
const WRITE_ATTEMPTS = 8;
/** How long a graceful stop may spend leaving the Endpoints. */
const STOP_DEADLINE_MS = 3_000;

export interface EndpointReconcilerOptions {
  server: ServerAddress;
  /** The lease's holderIdentity (default `ip:port`), e.g. the server's node name. */
  identity?: string;
  renewMs?: number;
  ttlMs?: number;
  clock: Clock;
  logger: Logger;
}

const info = (kind: string): ResourceInfo => RESOURCES.find((r) => r.kind === kind)!;

export class EndpointReconciler {
  private readonly leaseInfo = info('Lease');
  private readonly endpointsInfo = info('Endpoints');
  private readonly leaseName: string;
  private readonly renewMs: number;
  private readonly ttlMs: number;
  private observed = new Map<string, ObservedLease>();
  private looked = false;
  private timer: Timer | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly registry: Registry, private readonly opts: EndpointReconcilerOptions) {
    this.leaseName = endpointLeaseName(opts.server);
    this.renewMs = opts.renewMs ?? DEFAULT_ENDPOINT_RENEW_MS;
    this.ttlMs = opts.ttlMs ?? DEFAULT_ENDPOINT_TTL_MS;
    if (this.renewMs <= 0 || this.ttlMs <= this.renewMs) {
      throw new TriremeError('BadRequest', `endpoint lease ttl (${this.ttlMs} ms) must exceed its renew interval (${this.renewMs} ms)`);
    }
  }

  /** The first renewal and reconciliation (rejects if they fail), then the loop. */
  async start(): Promise<void> {
    if (!this.registry.store.shared) {
      await this.writeEndpoints([{ ...this.opts.server, observedAt: this.opts.clock.now(), changed: true }]);
      return;
    }
    await this.tick();
    this.schedule();
  }

  /**
   * Graceful: deletes this server's lease and removes its address. Never rejects, and gives up
   * after `STOP_DEADLINE_MS` (a store that does not answer must not hold up shutdown; the
   * others then drop this server once its lease expires).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    if (!this.registry.store.shared) return;
    const leave = async () => {
      await this.inFlight;
      try {
        await this.registry.delete(this.leaseInfo, SYSTEM_NAMESPACE, this.leaseName);
      } catch (e) {
        if (!isTriremeError(e, 'NotFound')) throw e;
      }
      this.observed.delete(this.leaseName);
      await this.writeEndpoints(this.planInputs());
      this.opts.logger.info({ lease: this.leaseName }, 'endpoint lease deleted; this server left default/kubernetes');
    };
    let timer: Timer | undefined;
    const deadline = new Promise<'late'>((resolve) => { timer = this.opts.clock.setTimeout(() => resolve('late'), STOP_DEADLINE_MS); });
    try {
      const outcome = await Promise.race([leave(), deadline]);
      if (outcome === 'late') this.opts.logger.warn({ lease: this.leaseName }, `could not leave default/kubernetes within ${STOP_DEADLINE_MS} ms; the others drop this server once its lease expires`);
    } catch (err) {
      this.opts.logger.warn({ err, lease: this.leaseName }, 'could not remove this server from default/kubernetes; the others drop it once its lease expires');
    } finally {
      if (timer) this.opts.clock.clearTimeout(timer);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.tick().catch((err: unknown) => {
        this.opts.logger.warn({ err, lease: this.leaseName }, 'endpoint lease renewal or reconciliation failed; retrying');
      }).finally(() => this.schedule());
    }, this.renewMs);
  }

  private async tick(): Promise<void> {
    await this.renew();
    if (this.stopped) return;
    // The cache (after this server's own write, so its own renewal is in it); a lag only delays
    // observations.
    const list = await this.registry.list(this.leaseInfo, SYSTEM_NAMESPACE, {
      resourceVersion: '0', filter: (o) => o.metadata?.labels?.[ENDPOINT_LEASE_LABEL] !== undefined,
    });
    const now = this.opts.clock.now();
    this.observed = observeLeases(this.observed, list.items as Lease[], now, !this.looked);
    this.looked = true;
    const self = this.observed.get(this.leaseName);
    // This server just renewed its own lease: it is live whatever the first look found.
    if (self) this.observed.set(this.leaseName, { ...self, observedAt: now, changed: true });
    if (this.stopped) return;
    await this.writeEndpoints(this.planInputs());
  }

  private planInputs(): Omit<PlanInput, 'listed'>[] {
    return [...this.observed.values()].map((o) => ({ ip: o.ip, port: o.port, observedAt: o.observedAt, changed: o.changed }));
  }

  private async renew(): Promise<void> {
    const { server, identity } = this.opts;
    const spec = { holderIdentity: identity ?? serverKey(server), leaseDurationSeconds: Math.ceil(this.ttlMs / 1000), renewTime: microTime(this.opts.clock.now()) };
    try {
      await this.registry.readModifyWrite(this.leaseInfo, SYSTEM_NAMESPACE, this.leaseName, {}, (cur) => ({ ...cur, spec: { ...(cur.spec as Lease['spec']), ...spec } }));
    } catch (e) {
      if (!isTriremeError(e, 'NotFound')) throw e;
      await this.registry.create(this.leaseInfo, SYSTEM_NAMESPACE, {
        metadata: {
          name: this.leaseName, labels: { [ENDPOINT_LEASE_LABEL]: 'true' },
          annotations: { [ADDRESS_ANNOTATION]: server.ip, [PORT_ANNOTATION]: String(server.port) },
        },
        spec: { ...spec, acquireTime: spec.renewTime },
      });
    }
  }

  /** Compare-and-swap of the planned subsets onto the current Endpoints (see the header). */
  private async writeEndpoints(servers: Omit<PlanInput, 'listed'>[]): Promise<void> {
    const byAddress = new Map<string, string>();
    for (const o of this.observed.values()) byAddress.set(serverKey(o), o.name);
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const current = await this.currentEndpoints();
      const listed = listedServers(current?.subsets);
      const inputs: PlanInput[] = [];
      for (const s of servers) {
        const key = serverKey(s);
        if (!listed.has(key) && this.registry.store.shared && !(await this.leaseExists(byAddress.get(key)))) continue;
        inputs.push({ ...s, listed: listed.has(key) });
      }
      const subsets = planEndpoints(inputs, this.opts.clock.now(), this.ttlMs);
      if (current && jsonEqual(current.subsets ?? [], subsets)) return;
      try {
        if (current) await this.registry.update(this.endpointsInfo, DEFAULT_NAMESPACE, SERVICE_NAME, { ...current, subsets } as KubeObject);
        else await this.registry.create(this.endpointsInfo, DEFAULT_NAMESPACE, { metadata: { name: SERVICE_NAME }, subsets } as KubeObject);
        return;
      } catch (e) {
        if (!isTriremeError(e, 'Conflict') && !isTriremeError(e, 'AlreadyExists')) throw e;
      }
    }
    throw new TriremeError('Conflict', `default/${SERVICE_NAME} endpoints: ${WRITE_ATTEMPTS} writes lost to concurrent writers`);
  }

  private async currentEndpoints(): Promise<Endpoints | undefined> {
    try {
      return (await this.registry.get(this.endpointsInfo, DEFAULT_NAMESPACE, SERVICE_NAME)) as Endpoints;
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  private async leaseExists(name: string | undefined): Promise<boolean> {
    if (name === undefined) return false;
    try {
      await this.registry.get(this.leaseInfo, SYSTEM_NAMESPACE, name);
      return true;
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return false;
      throw e;
    }
  }
}
