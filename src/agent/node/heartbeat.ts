// Node registration and liveness: creates (or adopts) the Node, posts its status every
// `statusPeriodMs` (or at once when it changed), and renews the Lease `kube-node-lease/<node>`
// every `leasePeriodMs`.
// Guarantees: failures are logged and retried on the next tick (the agent keeps running pods while
// the API is unreachable); labels the agent owns are (re)applied, other labels are kept. Does not
// remove the Node on stop (like the kubelet: the node controller decides).
import type { Node as V1Node } from 'kubernetes-types/core/v1.js';
import type { Lease as V1Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient } from '../../client/api-client.js';
import { resource } from '../../client/resources.js';
import { isTriremeError } from '../../errors.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { hostFacts, newNode, nodeLabels, nodeStatus, statusChanged, type HostFacts, type NodeParams } from './node-object.js';
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
  host?: () => HostFacts;
}

export class NodeHeartbeat {
  private lastStatus: Node['status'];
  private lastStatusAt = 0;
  private leaseFailing = false;
  private timers: Timer[] = [];
  private stopped = false;
  private readonly host: () => HostFacts;

  constructor(private readonly o: HeartbeatOptions) {
    this.host = o.host ?? hostFacts;
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
    const { client, params, clock } = this.o;
    const now = clock.now();
    let node: Node | undefined;
    try {
      node = await client.get<Node>(NODES, undefined, params.nodeName);
    } catch (e) {
      if (!isTriremeError(e, 'NotFound')) throw e;
    }
    if (!node) {
      try {
        const created = await client.create<Node>(NODES, undefined, newNode(params, this.host(), now) as Node);
        node = created;
      } catch (e) {
        if (!isTriremeError(e, 'AlreadyExists')) throw e;
        node = await client.get<Node>(NODES, undefined, params.nodeName);
      }
    }
    const labels = nodeLabels(params);
    if (Object.entries(labels).some(([k, v]) => node?.metadata?.labels?.[k] !== v)) {
      node = await client.patch<Node>(NODES, undefined, params.nodeName, 'merge', { metadata: { labels } });
    }
    const status = nodeStatus(params, this.host(), this.lastStatus ?? node.status, now);
    const due = now - this.lastStatusAt >= (this.o.statusPeriodMs ?? 10_000) - 50;
    // The node lifecycle controller may have marked us Unknown while we were away: the server's
    // Ready differing from ours is a reason to post at once, not at the next period.
    const readyOf = (st: Node['status']) => st?.conditions?.find((c) => c.type === 'Ready')?.status;
    const serverDiffers = readyOf(node.status) !== readyOf(status);
    if (due || serverDiffers || statusChanged(this.lastStatus, status)) {
      await client.patch<Node>(NODES, undefined, params.nodeName, 'merge', { status }, { subresource: 'status' });
      this.lastStatus = status;
      this.lastStatusAt = now;
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
    this.schedule(() => this.tickLease(), this.o.leasePeriodMs ?? 2_000);
  }
}
