// The proxy's kernel data plane (nftables mode): keeps two nftables tables in step with the
// listener table, so packets to a ClusterIP or NodePort are DNATed to a Ready endpoint by the
// kernel, with no userspace hop.
// - The cluster table (ClusterIP:port → endpoints) is written only by the agent holding the
//   cluster's machine lock (the same lock that decides who binds ClusterIP listeners in userspace
//   mode); the caller says whether it holds it. Kernel rules outlive their writer, so when the
//   holder dies the rules keep working until a neighbour takes the lock and writes them again.
// - The node table (this node's IP:nodePort → endpoints) is written by this agent under a lock of
//   its own (`@trireme-node-…`), so a stale-table sweep can tell it is alive.
// Guarantees: a table is written only while its lock is held here; a script is applied only when
// it differs from the last one applied to that table (and again after a failure, at the next
// reconcile); endpoints that fail their liveness check (liveness.ts) are left out until they
// answer again; `sweep()` deletes stale tables of ours but these two (stale-tables.ts);
// `stop()` deletes the node table; the cluster table is deleted only when no other agent took the
// lock within `handoverMs` of its release (otherwise the new holder owns it).
// Does not: serve UDP Services or Services with session affinity (the proxy keeps those in
// userspace: nft-ruleset.ts isKernelListener), choose which listeners exist (table.ts), run more
// than one reconcile at a time (the caller serialises).
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { EndpointLiveness, type LivenessTarget } from './liveness.js';
import { AbstractSocketLock } from './machine-lock.js';
import type { NftRunner } from './nft.js';
import { clusterTable, deleteScript, nodeTable, rulesetScript, withoutDead } from './nft-ruleset.js';
import { StaleTableSweeper } from './stale-tables.js';
import type { ListenerSpec } from './table.js';

export interface KernelOptions {
  nft: NftRunner;
  clusterKey: string;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** Endpoint liveness check period (and the connect timeout of one check). */
  livenessIntervalMs?: number;
  livenessTimeoutMs?: number;
  /** After releasing the cluster lock at stop, how long another agent has to take it. */
  handoverMs: number;
  /** Called when the liveness of an endpoint changed: the caller schedules a reconcile. */
  onLivenessChange: () => void;
}

interface TableState {
  table: string;
  /** The script last applied, undefined when unknown (never applied, failed, or lost the lock). */
  applied: string | undefined;
  /** The specs (live backends only) of the last applied script. */
  served: ListenerSpec[];
}

export class KernelDataPlane {
  readonly clusterTableName: string;
  readonly nodeTableName: string;
  private readonly cluster: TableState;
  private readonly node: TableState;
  private readonly nodeLock: AbstractSocketLock;
  private readonly liveness: EndpointLiveness;
  private readonly sweeper: StaleTableSweeper;
  private readonly log: Logger;
  private desired: ListenerSpec[] = [];
  private errorLogged = new Map<string, string>();

  constructor(private readonly o: KernelOptions) {
    this.log = o.logger;
    const c = clusterTable(o.clusterKey);
    const n = nodeTable(o.clusterKey, o.nodeName);
    this.clusterTableName = c.table;
    this.nodeTableName = n.table;
    this.cluster = { table: c.table, applied: undefined, served: [] };
    this.node = { table: n.table, applied: undefined, served: [] };
    this.nodeLock = new AbstractSocketLock(n.lock, o.logger);
    this.sweeper = new StaleTableSweeper(o.nft, o.logger);
    this.liveness = new EndpointLiveness({
      clock: o.clock, logger: o.logger, onChange: o.onLivenessChange,
      ...(o.livenessIntervalMs !== undefined ? { intervalMs: o.livenessIntervalMs } : {}),
      ...(o.livenessTimeoutMs !== undefined ? { timeoutMs: o.livenessTimeoutMs } : {}),
    });
  }

  start(): void {
    this.liveness.start();
  }

  /** The kernel listeners (TCP, no affinity) of both scopes, as listenerTable gives them. */
  setDesired(specs: readonly ListenerSpec[]): void {
    this.desired = [...specs];
  }

  /**
   * Every kernel listener wanted, with what this agent's rules hold for it (the listener as last
   * written, live backends only), undefined when its table is not written by this agent now.
   */
  served(): { spec: ListenerSpec; programmed: ListenerSpec | undefined }[] {
    const byKey = new Map<string, ListenerSpec>();
    for (const st of [this.cluster, this.node]) {
      if (st.applied !== undefined) for (const s of st.served) byKey.set(s.key, s);
    }
    return this.desired.map((spec) => ({ spec, programmed: byKey.get(spec.key) }));
  }

  /** Brings both tables in step; `holdingCluster` says whether this agent holds the cluster lock. */
  async reconcile(holdingCluster: boolean): Promise<void> {
    const clusterSpecs = this.desired.filter((s) => s.scope === 'cluster');
    const nodeSpecs = this.desired.filter((s) => s.scope === 'node');
    const targets = new Map<string, LivenessTarget>();
    for (const s of [...(holdingCluster ? clusterSpecs : []), ...nodeSpecs]) {
      for (const b of s.backends) targets.set(`${s.protocol}/${b.key}`, { ip: b.ip, port: b.port });
    }
    this.liveness.setTargets([...targets.values()]);
    const dead = this.liveness.dead();
    if (holdingCluster) await this.write(this.cluster, withoutDead(clusterSpecs, dead), `cluster ${this.o.nodeName}`);
    else this.cluster.applied = undefined; // the holder (someone else) owns it; write it all again when ours
    let nodeHeld = this.nodeLock.held;
    if (!nodeHeld) {
      try {
        nodeHeld = await this.nodeLock.tryAcquire();
      } catch (err) {
        this.logOnce('node-lock', err, 'node table lock unusable; NodePorts are not in the kernel rules');
      }
    }
    if (nodeHeld) await this.write(this.node, withoutDead(nodeSpecs, dead), `node ${this.o.nodeName}`);
  }

  private async write(st: TableState, specs: ListenerSpec[], owner: string): Promise<void> {
    const script = rulesetScript(st.table, owner, specs);
    if (script === st.applied) return;
    try {
      await this.o.nft.apply(script);
    } catch (err) {
      st.applied = undefined;
      this.logOnce(st.table, err, 'cannot write the kernel proxy rules; retrying');
      return;
    }
    this.errorLogged.delete(st.table);
    const first = st.applied === undefined;
    st.applied = script;
    st.served = specs;
    const fields = { table: st.table, listeners: specs.length, backends: specs.reduce((n, s) => n + s.backends.length, 0) };
    if (first) this.log.info(fields, 'kernel proxy rules written');
    else this.log.debug(fields, 'kernel proxy rules updated');
  }

  /** Deletes tables of ours whose owner is gone (its lock free); see the module comment. */
  /** The stale-table sweep (stale-tables.ts), keeping this agent's two tables. */
  sweep(): Promise<void> {
    return this.sweeper.sweep(new Set([this.cluster.table, this.node.table]));
  }

  /**
   * Stops checking endpoints, deletes the node table, and — when this agent held the cluster lock
   * — leaves the cluster table to whoever takes the lock within `handoverMs`, deleting it if
   * nobody does. `releaseCluster` releases the cluster lock; `retakeCluster` tries it once more.
   */
  async stop(heldCluster: boolean, releaseCluster: () => Promise<void>, retakeCluster: () => Promise<boolean>): Promise<void> {
    this.liveness.stop();
    if (this.nodeLock.held) {
      await this.remove(this.node.table);
      await this.nodeLock.release();
    }
    if (!heldCluster) {
      await releaseCluster();
      return;
    }
    await releaseCluster();
    await new Promise<void>((r) => this.o.clock.setTimeout(r, this.o.handoverMs));
    let mine = false;
    try {
      mine = await retakeCluster();
    } catch (err) {
      this.log.warn({ err }, 'cannot retake the proxy machine lock at stop; leaving the cluster table');
    }
    if (mine) {
      await this.remove(this.cluster.table);
      await releaseCluster();
    } else this.log.info({ table: this.cluster.table }, 'another agent took over the cluster table');
  }

  private async remove(table: string): Promise<void> {
    try {
      await this.o.nft.apply(deleteScript(table));
      this.log.info({ table }, 'kernel proxy table deleted');
    } catch (err) {
      this.log.error({ err, table }, 'cannot delete the kernel proxy table');
    }
  }

  private logOnce(key: string, err: unknown, msg: string): void {
    const m = (err as Error).message;
    if (this.errorLogged.get(key) === m) return;
    this.errorLogged.set(key, m);
    this.log.warn({ err, key }, msg);
  }
}
