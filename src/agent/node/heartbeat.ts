// Node registration and liveness: creates (or adopts) the Node, posts its status every
// `statusPeriodMs` (or at once when it changed), and renews the Lease `kube-node-lease/<node>`
// every `leasePeriodMs`. Each status is computed from fresh host readings (readings.ts) through
// the pure condition decisions (conditions.ts), which remember when each pressure signal was last
// below its threshold (the transition period).
// Guarantees: failures are logged and retried on the next tick (the agent keeps running pods while
// the API is unreachable); labels and annotations the agent owns are (re)applied, others are kept; a change
// of a condition's status is logged once. Does not remove the Node on stop (like the kubelet: the
// node controller decides), nor set taints (the node lifecycle controller derives them).
// With a `guard` (the node fence, src/agent/fence/), every report — status or lease — first
// awaits `guard.beforeReport()` (a rejection skips the report, retried on the next tick) and
// tells `guard.reported()` when it succeeded.
import type { Node as V1Node } from 'kubernetes-types/core/v1.js';
import type { Lease as V1Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient } from '../../client/api-client.js';
import { resource } from '../../client/resources.js';
import { isTriremeError } from '../../errors.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { decideConditions, type HostReadings, type PressureMemory } from './conditions.js';
import { newNode, nodeLabels, nodeStatus, statusChanged, type NodeParams, type NodeState } from './node-object.js';
import type { HostFacts } from './readings.js';
import type { SystemReserved, Thresholds } from './thresholds.js';
import { microTime } from '../../api/time.js';
import { NODE_LEASE_NAMESPACE } from '../../api/namespaces.js';

type Node = V1Node & KubeObject;
type Lease = V1Lease & KubeObject;

const NODES = resource('', 'nodes');
const LEASES = resource('coordination.k8s.io', 'leases');

export interface HeartbeatOptions {
  client: ApiClient;
  params: NodeParams;
  clock: Clock;
  logger: Logger;
  statusPeriodMs?: number;
  leasePeriodMs?: number;
  leaseDurationSeconds?: number;
  facts: HostFacts;
  /** Fresh readings for each status; the first filesystem is the data dir's. */
  read: () => Promise<HostReadings>;
  conditions: NodeConditionsConfig;
  guard?: ReportGuard;
  /** Annotations the agent owns on its Node (e.g. the API servers it knows), re-applied when they differ. */
  annotations?: () => Record<string, string>;
}

/** Runs before each report (may refuse it by rejecting) and hears of each successful one. */
export interface ReportGuard {
  beforeReport(): Promise<void>;
  reported(): void;
}

export interface NodeConditionsConfig {
  thresholds: Thresholds;
  reserved: SystemReserved;
  /** How long a pressure condition stays True after its signal cleared. */
  transitionMs: number;
}

export class NodeHeartbeat {
  private lastStatus: Node['status'];
  private lastStatusAt = 0;
  private leaseFailing = false;
  /** When the node Lease was last renewed (clock ms); undefined before the first renewal. */
  lastRenewedAt: number | undefined;
  private timers: Timer[] = [];
  private stopped = false;
  private pressure: PressureMemory = {};

  constructor(private readonly o: HeartbeatOptions) {}

  /** Reads the host and decides the conditions (updating the pressure memory). */
  private async state(now: number): Promise<NodeState> {
    const readings = await this.o.read();
    const { conditions, memory } = decideConditions({ readings, ...this.o.conditions, memory: this.pressure, now });
    this.pressure = memory;
    const fss = readings.filesystems;
    return { conditions, ephemeralStorageBytes: 'error' in fss ? undefined : fss[0]?.capacityBytes };
  }

  /** Registers the node (once) and starts both loops; resolves after the first attempt. */
  async start(): Promise<void> {
    await this.tickStatus(true);
    await this.tickLease();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.o.clock.clearTimeout(t);
    this.timers = [];
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    if (this.stopped) return;
    const t = this.o.clock.setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      void fn();
    }, ms);
    this.timers.push(t);
  }

  /** Creates or updates the Node; exported for tests through start(). */
  async syncNode(): Promise<void> {
    const { client, params, clock, facts } = this.o;
    const { reserved } = this.o.conditions;
    await this.o.guard?.beforeReport();
    const now = clock.now();
    const state = await this.state(now);
    let node: Node | undefined;
    try {
      node = await client.get<Node>(NODES, undefined, params.nodeName);
    } catch (e) {
      if (!isTriremeError(e, 'NotFound')) throw e;
    }
    if (!node) {
      try {
        const created = await client.create<Node>(NODES, undefined, newNode(params, facts, state, reserved, now) as Node);
        node = created;
      } catch (e) {
        if (!isTriremeError(e, 'AlreadyExists')) throw e;
        node = await client.get<Node>(NODES, undefined, params.nodeName);
      }
    }
    const labels = nodeLabels(params, facts);
    if (Object.entries(labels).some(([k, v]) => node?.metadata?.labels?.[k] !== v)) {
      node = await client.patch<Node>(NODES, undefined, params.nodeName, 'merge', { metadata: { labels } });
    }
    const annotations = this.o.annotations?.() ?? {};
    if (Object.entries(annotations).some(([k, v]) => node?.metadata?.annotations?.[k] !== v)) {
      node = await client.patch<Node>(NODES, undefined, params.nodeName, 'merge', { metadata: { annotations } });
    }
    const prev = this.lastStatus ?? node.status;
    const status = nodeStatus(params, facts, state, reserved, prev, now);
    const due = now - this.lastStatusAt >= (this.o.statusPeriodMs ?? 10_000) - 50;
    // The node lifecycle controller may have marked us Unknown while we were away: the server's
    // Ready differing from ours is a reason to post at once, not at the next period.
    const readyOf = (st: Node['status']) => st?.conditions?.find((c) => c.type === 'Ready')?.status;
    const serverDiffers = readyOf(node.status) !== readyOf(status);
    if (due || serverDiffers || statusChanged(this.lastStatus, status)) {
      await client.patch<Node>(NODES, undefined, params.nodeName, 'merge', { status }, { subresource: 'status' });
      this.o.guard?.reported();
      this.logTransitions(this.lastStatus, status);
      this.lastStatus = status;
      this.lastStatusAt = now;
    }
  }

  private logTransitions(before: Node['status'], after: NonNullable<Node['status']>): void {
    for (const c of after.conditions ?? []) {
      const old = before?.conditions?.find((o) => o.type === c.type);
      if (old?.status === c.status) continue;
      const healthy = c.type === 'Ready' ? c.status === 'True' : c.status === 'False';
      if (!old && healthy) continue; // registration: only trouble is news
      const fields = { condition: c.type, status: c.status, reason: c.reason, message: c.message };
      if (healthy) this.o.logger.info(fields, 'node condition changed');
      else this.o.logger.warn(fields, 'node condition changed');
    }
  }

  private async tickStatus(first = false): Promise<void> {
    try {
      await this.syncNode();
    } catch (e) {
      this.o.logger.warn({ err: e, first }, 'node status update failed');
    }
    this.schedule(() => this.tickStatus(), this.o.statusPeriodMs ?? 10_000);
  }

  async renewLease(): Promise<void> {
    const { client, params, clock } = this.o;
    await this.o.guard?.beforeReport();
    const spec = {
      holderIdentity: params.nodeName,
      leaseDurationSeconds: this.o.leaseDurationSeconds ?? 10,
      renewTime: microTime(clock.now()),
    };
    try {
      await client.patch<Lease>(LEASES, NODE_LEASE_NAMESPACE, params.nodeName, 'merge', { spec });
    } catch (e) {
      if (!isTriremeError(e, 'NotFound')) throw e;
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name: params.nodeName, namespace: NODE_LEASE_NAMESPACE },
        spec: { ...spec, acquireTime: spec.renewTime },
      };
      await client.create<Lease>(LEASES, NODE_LEASE_NAMESPACE, lease);
    }
    this.o.guard?.reported();
    this.lastRenewedAt = clock.now();
  }

  private async tickLease(): Promise<void> {
    try {
      await this.renewLease();
      if (this.leaseFailing) {
        // Back in touch after an outage: report status now, so a node marked Unknown meanwhile
        // is Ready again before its pods' tolerations run out.
        this.leaseFailing = false;
        await this.syncNode().catch((err: unknown) => this.o.logger.warn({ err }, 'node status update after reconnect failed'));
      }
    } catch (e) {
      this.leaseFailing = true;
      this.o.logger.warn({ err: e }, 'node lease renewal failed');
    }
    this.schedule(() => this.tickLease(), this.o.leasePeriodMs ?? 1_000);
  }
}
