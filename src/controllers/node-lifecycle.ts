// The node lifecycle controller: notices dead nodes and evicts their pods, Kubernetes' node
// lifecycle controller with taint-based eviction on a seconds scale. Per node (the queue key is
// the node name) it (1) records when it observed the Lease `kube-node-lease/<node>` renewTime
// or the Ready heartbeat change (on every informer event, its own clock) and marks
// Ready/MemoryPressure/DiskPressure/PIDPressure Unknown when that is longer ago than the grace
// period (nodelifecycle/health.ts), (2) keeps the not-ready/unreachable NoExecute taints in line
// with Ready, and the NoSchedule taints in line with the conditions and `spec.unschedulable`
// (nodelifecycle/taints.ts) — the NoExecute `unreachable` taint only while this controller
// observes the node silent and the mass-disruption guard lets it through (nodelifecycle/
// disruption.ts: held when more than the threshold of the cluster or of a zone is silent at
// once, with a Warning Event `EvictionSuppressed` on each held node and metrics), and (3) deletes
// the pods bound to the node that do not tolerate its NoExecute taints, or whose
// tolerationSeconds ran out (nodelifecycle/eviction.ts), re-queueing itself for the next
// deadline. Guarantees: node writes are PUTs of the cached object (compare-and-swap with the
// agent's own status writes; a conflict retries); a node that renews again loses its
// `unreachable` NoExecute taint at once, before the agent re-posts Ready; on an unreachable
// node pods are deleted with gracePeriodSeconds 0 — no agent will ever confirm a graceful
// deletion there, so without the force the pod would stay Terminating and keep its name
// (StatefulSets) forever. Kubernetes reaches the same end later through its pod GC; here it is
// immediate, at the price that a partitioned-but-alive node may still run the old container for
// a while beside the replacement. Does not: mark pods NotReady, or delete Nodes.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import type { Informer } from '../client/informer.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller } from './common/controller.js';
import type { NodeObj, PodObj } from './common/types.js';
import { aggregate, errorMessage, ignoreNotFound } from './common/writes.js';
import { condition, decideNodeHealth, DEFAULT_NODE_MONITOR_GRACE_MS, observeHeartbeat, silentAfter, type HeartbeatProbe } from './nodelifecycle/health.js';
import {
  decideDisruption, DEFAULT_SECONDARY_EVICTION_RATE, DEFAULT_UNHEALTHY_THRESHOLD, holdMessage, takeToken, zoneOf, type Bucket, type DisruptionDecision, type ZoneState,
} from './nodelifecycle/disruption.js';
import { planEvictions } from './nodelifecycle/eviction.js';
import type { NodeLifecycleMetrics } from './nodelifecycle/metrics.js';
import { decideTaints, TAINT_UNREACHABLE } from './nodelifecycle/taints.js';
import type { ControllerDeps } from './replicaset.js';
import { NODE_LEASE_NAMESPACE } from '../api/namespaces.js';

const NODES = resource('', 'nodes');
const PODS = resource('', 'pods');
const LEASES = resource('coordination.k8s.io', 'leases');

type LeaseObj = Lease & KubeObject;

export interface NodeLifecycleOptions {
  /** A node with no heartbeat change observed for longer than this is unreachable (default 5 s). */
  gracePeriodMs?: number;
  /** More than this fraction of the cluster or of a zone silent trips the guard (default 0.5). */
  unhealthyZoneThreshold?: number;
  /** Nodes per second let through for eviction while the guard holds (default 0: none). */
  secondaryEvictionRate?: number;
  /** Created once per process (the controller restarts with each leadership term). */
  metrics?: NodeLifecycleMetrics;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  readonly queue: WorkQueue;
  private readonly nodeInf: Informer<NodeObj>;
  private readonly podInf: Informer<PodObj>;
  private readonly leaseInf: Informer<LeaseObj>;
  private readonly graceMs: number;
  private readonly threshold: number;
  private readonly slowRate: number;
  private readonly metrics: NodeLifecycleMetrics | undefined;
  /** First sighting of taints without timeAdded (set by someone else), so their deadline holds still. */
  private readonly firstSeen = new Map<string, number>();
  /** Per node: the heartbeats last seen and when this process saw them change (health.ts). */
  private readonly probes = new Map<string, HeartbeatProbe>();
  /** Silent nodes in a held zone that the slow rate let through. */
  private readonly granted = new Set<string>();
  /** Silent nodes whose eviction the guard holds now (for the Events and the metric). */
  private readonly held = new Set<string>();
  /** The slow rate's token bucket per zone. */
  private readonly buckets = new Map<string, Bucket>();
  /** The zone states last seen, to log and re-queue on a change. */
  private zoneStates = new Map<string, ZoneState>();
  private cutOff = false;

  constructor(private readonly deps: ControllerDeps, opts: NodeLifecycleOptions = {}) {
    this.graceMs = opts.gracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_MS;
    this.threshold = opts.unhealthyZoneThreshold ?? DEFAULT_UNHEALTHY_THRESHOLD;
    this.slowRate = opts.secondaryEvictionRate ?? DEFAULT_SECONDARY_EVICTION_RATE;
    this.metrics = opts.metrics;
    this.queue = new WorkQueue({ clock: deps.clock });
    this.nodeInf = deps.informers.for<NodeObj>(NODES);
    this.podInf = deps.informers.for<PodObj>(PODS);
    this.leaseInf = deps.informers.for<LeaseObj>(LEASES);
    // Heartbeats are observed as their events arrive, so a busy queue does not age them.
    const byName = (o: KubeObject) => {
      const name = o.metadata?.name ?? '';
      this.observe(name, deps.clock.now());
      this.queue.add(name);
    };
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
    this.probes.delete(node);
    this.granted.delete(node);
    this.held.delete(node);
    for (const k of this.firstSeen.keys()) if (k.startsWith(`${node}/`)) this.firstSeen.delete(k);
  }

  async reconcile(name: string): Promise<void> {
    const cached = this.nodeInf.get(undefined, name);
    if (!cached) return;
    const { client, clock, recorder } = this.deps;
    const now = clock.now();
    let node = cached;
    const health = decideNodeHealth(node, this.observe(name, now) ?? { observedAt: now }, now, this.graceMs);
    if (health.conditions) {
      const wasReady = condition(node, 'Ready')?.status === 'True';
      node = await client.update<NodeObj>(NODES, undefined, { ...node, status: { ...node.status, conditions: health.conditions } }, { subresource: 'status' });
      this.deps.logger.info({ node: name }, 'node stopped posting status; conditions set to Unknown');
      if (wasReady) recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    const disruption = this.disruption(now);
    const gate = this.gate(node, health.stale, disruption, now);
    this.metrics?.zones(disruption, this.held.size);
    const taints = decideTaints(node, now, { holdUnreachable: gate.hold });
    if (taints.taints) {
      node = await client.update<NodeObj>(NODES, undefined, { ...node, spec: { ...node.spec, taints: taints.taints } });
      this.deps.logger.info({ node: name, added: taints.added.map(taintStr), removed: taints.removed.map(taintStr) }, 'node taints updated');
    }
    const noExec = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    this.trackFirstSeen(name, noExec, now);
    let recheck = min(health.recheckInMs, gate.retryInMs);
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
          if (message) {
            recorder.event(pod, 'Normal', 'TaintManagerEviction', message);
            this.metrics?.evicted(zoneOf(node), 1);
          }
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
      recheck = min(recheck, plan.recheckInMs);
    }
    if (recheck !== undefined) this.queue.addAfter(name, recheck);
  }

  /** The probe of a cached node after looking at it and its Lease now. */
  private observe(name: string, now: number): HeartbeatProbe | undefined {
    const node = this.nodeInf.get(undefined, name);
    if (!node) return undefined;
    const probe = observeHeartbeat(this.probes.get(name), node, this.leaseInf.get(NODE_LEASE_NAMESPACE, name), now);
    this.probes.set(name, probe);
    return probe;
  }

  /** Zone states of the whole cluster now; a change is logged and every node looked at again. */
  private disruption(now: number): DisruptionDecision {
    const nodes = this.nodeInf.list().map((n) => {
      const probe = this.probes.get(n.metadata?.name ?? '') ?? this.observe(n.metadata?.name ?? '', now) ?? { observedAt: now };
      // Counted as silent from half the grace period on: nodes lost together have last heartbeats
      // up to one renew interval apart, and the first one's pods must not be evicted before the
      // others are counted (its toleration may be shorter than that interval).
      return { zone: zoneOf(n), silent: now > silentAfter(probe, this.graceMs / 2) };
    });
    const d = decideDisruption(nodes, this.threshold);
    const states = new Map([...d.zones].map(([zone, z]) => [zone, z.state]));
    const changed = [...states].filter(([zone, st]) => this.zoneStates.get(zone) !== st);
    const gone = [...this.zoneStates.keys()].filter((zone) => !states.has(zone));
    for (const zone of gone) this.metrics?.zoneGone(zone);
    if (changed.length || gone.length || d.cutOff !== this.cutOff) {
      for (const [zone, state] of changed) {
        const z = d.zones.get(zone);
        const fields = { zone, state, was: this.zoneStates.get(zone) ?? 'unseen', nodes: z?.nodes, silent: z?.silent };
        if (state === 'Normal') this.deps.logger.info(fields, 'zone state changed');
        else this.deps.logger.warn(fields, 'zone state changed');
      }
      if (d.cutOff !== this.cutOff) {
        if (d.cutOff) this.deps.logger.warn({ silent: d.silent, nodes: d.nodes }, 'most nodes are silent at once: the control plane is probably cut off; evictions held');
        else this.deps.logger.info({ silent: d.silent, nodes: d.nodes }, 'most nodes report again; evictions resume');
      }
      this.zoneStates = states;
      this.cutOff = d.cutOff;
      this.enqueueAll();
    }
    return d;
  }

  /**
   * Whether the node's `unreachable` NoExecute taint is held back: always while the node is not
   * observed silent (it renews, or this process has not waited a grace period for it yet);
   * while the guard holds its zone, unless the slow rate lets it through.
   */
  private gate(node: NodeObj, stale: boolean, d: DisruptionDecision, now: number): { hold: boolean; retryInMs?: number } {
    const name = node.metadata?.name ?? '';
    const zone = zoneOf(node);
    if (!stale || d.zones.get(zone)?.mode !== 'limited') {
      this.granted.delete(name);
      if (this.held.delete(name) && stale) {
        // Like a restarted controller: a node the guard held gets a full grace period from now
        // to report (nodes cut off together return at slightly different moments, each fencing
        // its pods first); only then is it tainted for eviction.
        this.probes.set(name, { ...(this.probes.get(name) ?? { observedAt: now }), observedAt: now });
        this.deps.recorder.event(node, 'Normal', 'EvictionResumed', `Node ${name} is still silent and the guard no longer holds its zone; it is evicted unless it reports within ${this.graceMs / 1000} s`);
        return { hold: true, retryInMs: this.graceMs };
      }
      return { hold: !stale };
    }
    if (this.granted.has(name)) return { hold: false };
    const t = takeToken(this.buckets.get(zone), now, this.slowRate);
    this.buckets.set(zone, t.bucket);
    if (t.ok) {
      this.granted.add(name);
      this.held.delete(name);
      this.deps.logger.warn({ node: name, zone }, 'evictions held, but the secondary eviction rate lets this node through');
      return { hold: false };
    }
    if (!this.held.has(name)) {
      this.held.add(name);
      const message = `Node ${name} stopped posting status, but ${holdMessage(d, zone)}`;
      this.deps.logger.warn({ node: name, zone }, message);
      this.deps.recorder.event(node, 'Warning', 'EvictionSuppressed', message);
    }
    return { hold: true, ...(t.retryInMs !== undefined ? { retryInMs: t.retryInMs } : {}) };
  }

  private trackFirstSeen(node: string, noExec: readonly Taint[], now: number): void {
    const live = new Set(noExec.map((t) => `${node}/${taintStr(t)}`));
    for (const k of this.firstSeen.keys()) if (k.startsWith(`${node}/`) && !live.has(k)) this.firstSeen.delete(k);
    for (const k of live) if (!this.firstSeen.has(k)) this.firstSeen.set(k, now);
  }
}

const min = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
const taintStr = (t: Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
const pod = (p: PodObj): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
