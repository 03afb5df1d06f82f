// The node lifecycle controller: notices dead nodes and evicts their pods, Kubernetes' node
// lifecycle controller with taint-based eviction on a seconds scale. Per node (the queue key is
// the node name) it (1) marks Ready/MemoryPressure/DiskPressure/PIDPressure Unknown when neither
// the Lease `kube-node-lease/<node>` nor the Ready heartbeat was renewed within the grace period
// (nodelifecycle/health.ts), (2) keeps the not-ready/unreachable NoExecute taints in line with
// Ready, and the NoSchedule taints in line with the conditions (not-ready, unreachable,
// memory/disk/pid-pressure, network-unavailable) and `spec.unschedulable` (nodelifecycle/taints.ts), and
// (3) deletes the pods bound to the node that do not tolerate its NoExecute taints, or whose
// tolerationSeconds ran out (nodelifecycle/eviction.ts), re-queueing itself for the next
// deadline. Guarantees: node writes are PUTs of the cached object (compare-and-swap with the
// agent's own status writes; a conflict retries); on an unreachable node pods are deleted with
// gracePeriodSeconds 0 — no agent will ever confirm a graceful deletion there, so without the
// force the pod would stay Terminating and keep its name (StatefulSets) forever. Kubernetes
// reaches the same end later through its pod GC; here it is immediate, at the price that a
// partitioned-but-alive node may still run the old container for a while beside the
// replacement. Does not: rate-limit evictions per zone, mark pods NotReady, or delete Nodes.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import type { Informer } from '../client/informer.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller } from './common/controller.js';
import type { NodeObj, PodObj } from './common/types.js';
import { aggregate, errorMessage, ignoreNotFound } from './common/writes.js';
import { condition, decideNodeHealth, DEFAULT_NODE_MONITOR_GRACE_MS } from './nodelifecycle/health.js';
import { planEvictions } from './nodelifecycle/eviction.js';
import { decideTaints, TAINT_UNREACHABLE } from './nodelifecycle/taints.js';
import type { ControllerDeps } from './replicaset.js';
import { NODE_LEASE_NAMESPACE } from '../api/namespaces.js';

const NODES = resource('', 'nodes');
const PODS = resource('', 'pods');
const LEASES = resource('coordination.k8s.io', 'leases');

type LeaseObj = Lease & KubeObject;

export interface NodeLifecycleOptions {
  /** A node silent for longer than this is unreachable (default 8 s). */
  gracePeriodMs?: number;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  readonly queue: WorkQueue;
  private readonly nodeInf: Informer<NodeObj>;
  private readonly podInf: Informer<PodObj>;
  private readonly leaseInf: Informer<LeaseObj>;
  private readonly graceMs: number;
  /** First sighting of taints without timeAdded (set by someone else), so their deadline holds still. */
  private readonly firstSeen = new Map<string, number>();
  /** When each node was first seen by this process (health.ts: a grace period after a restart). */
  private readonly observed = new Map<string, number>();

  constructor(private readonly deps: ControllerDeps, opts: NodeLifecycleOptions = {}) {
    this.graceMs = opts.gracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_MS;
    this.queue = new WorkQueue({ clock: deps.clock });
    this.nodeInf = deps.informers.for<NodeObj>(NODES);
    this.podInf = deps.informers.for<PodObj>(PODS);
    this.leaseInf = deps.informers.for<LeaseObj>(LEASES);
    const byName = (o: KubeObject) => this.queue.add(o.metadata?.name ?? '');
    this.nodeInf.on({ add: byName, update: (_o, n) => byName(n), delete: (n) => this.forget(n.metadata?.name ?? '') });
    const byLease = (l: LeaseObj) => {
      if (l.metadata?.namespace === NODE_LEASE_NAMESPACE) byName(l);
    };
    this.leaseInf.on({ add: byLease, update: (_o, l) => byLease(l), delete: byLease });
    // A pod landing on a NoExecute-tainted node must be looked at; other pod changes don't matter.
    const byPod = (p: PodObj) => {
      const node = p.spec?.nodeName;
      if (node && this.nodeInf.get(undefined, node)?.spec?.taints?.some((t) => t.effect === 'NoExecute')) this.queue.add(node);
    };
    this.podInf.on({ add: byPod, update: (_o, p) => byPod(p) });
  }

  enqueueAll(): void {
    for (const n of this.nodeInf.list()) this.queue.add(n.metadata?.name ?? '');
  }

  private forget(node: string): void {
    this.observed.delete(node);
    for (const k of this.firstSeen.keys()) if (k.startsWith(`${node}/`)) this.firstSeen.delete(k);
  }

  async reconcile(name: string): Promise<void> {
    const cached = this.nodeInf.get(undefined, name);
    if (!cached) return;
    const { client, clock, recorder } = this.deps;
    const now = clock.now();
    let node = cached;
    if (!this.observed.has(name)) this.observed.set(name, now);
    const health = decideNodeHealth(node, this.leaseInf.get(NODE_LEASE_NAMESPACE, name), now, this.graceMs, this.observed.get(name));
    if (health.conditions) {
      const wasReady = condition(node, 'Ready')?.status === 'True';
      node = await client.update<NodeObj>(NODES, undefined, { ...node, status: { ...node.status, conditions: health.conditions } }, { subresource: 'status' });
      this.deps.logger.info({ node: name }, 'node stopped posting status; conditions set to Unknown');
      if (wasReady) recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    const taints = decideTaints(node, now);
    if (taints.taints) {
      node = await client.update<NodeObj>(NODES, undefined, { ...node, spec: { ...node.spec, taints: taints.taints } });
      this.deps.logger.info({ node: name, added: taints.added.map(taintStr), removed: taints.removed.map(taintStr) }, 'node taints updated');
    }
    const noExec = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    this.trackFirstSeen(name, noExec, now);
    let recheck = health.recheckInMs;
    if (noExec.length) {
      const unreachable = noExec.some((t) => t.key === TAINT_UNREACHABLE);
      const pods = this.podInf.list().filter((p) => p.spec?.nodeName === name);
      const plan = planEvictions(pods, noExec, now, { unreachable, taintSince: (t) => this.firstSeen.get(`${name}/${taintStr(t)}`) ?? now });
      const errors: unknown[] = [];
      const del = async (pod: PodObj, message: string | undefined) => {
        try {
          // Force on an unreachable node: see the header comment.
          await ignoreNotFound(client.delete(PODS, pod.metadata?.namespace, pod.metadata?.name ?? '', {
            preconditions: { uid: pod.metadata?.uid }, ...(unreachable ? { gracePeriodSeconds: 0 } : {}),
          }));
          if (message) recorder.event(pod, 'Normal', 'TaintManagerEviction', message);
        } catch (e) {
          this.deps.logger.warn({ node: name, pod: pod.metadata?.name, err: errorMessage(e) }, 'eviction failed');
          errors.push(e);
        }
      };
      await Promise.all([
        ...plan.evict.map((e) => del(e.pod, `Marking for deletion Pod ${pod(e.pod)}`)),
        ...plan.forceRemove.map((p) => del(p, undefined)),
      ]);
      if (plan.evict.length || plan.forceRemove.length) {
        this.deps.logger.info({ node: name, evicted: plan.evict.map((e) => pod(e.pod)), forced: plan.forceRemove.map(pod) }, 'taint-based eviction');
      }
      aggregate(errors, `evict pods from node ${name}`);
      if (plan.recheckInMs !== undefined) recheck = Math.min(recheck ?? Infinity, plan.recheckInMs);
    }
    if (recheck !== undefined) this.queue.addAfter(name, recheck);
  }

  private trackFirstSeen(node: string, noExec: readonly Taint[], now: number): void {
    const live = new Set(noExec.map((t) => `${node}/${taintStr(t)}`));
    for (const k of this.firstSeen.keys()) if (k.startsWith(`${node}/`) && !live.has(k)) this.firstSeen.delete(k);
    for (const k of live) if (!this.firstSeen.has(k)) this.firstSeen.set(k, now);
  }
}

const taintStr = (t: Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
const pod = (p: PodObj): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
