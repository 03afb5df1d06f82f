// The scheduler loop: informers feed the ClusterCache (nodes, bound pods, namespaces,
// services) and the SchedulingQueue (pending pods of this scheduler); pods are decided one
// at a time on the cache, assumed onto their node at once, and bound through
// `POST pods/{name}/binding` with up to `maxBindsInFlight` binds running while the next
// decisions proceed on the assumed state.
// Guarantees: a pod is never decided twice while a decision or bind for it is pending (the
// assumption, and the queue's in-flight state, block it); a failed bind forgets the
// assumption and retries after back-off (a Conflict because the pod is already bound is
// not retried); an unschedulable pod gets PodScheduled=False/Unschedulable with the
// summary message (patched only when the message changes) and a FailedScheduling event,
// and is retried when nodes, pods, namespaces or services change, or after
// maxUnschedulableMs; a bound pod gets a Scheduled event.
// Does not: elect a leader itself — `trireme scheduler` and `trireme server` run it only while
// holding the kube-system/kube-scheduler Lease, with its writes fenced (src/cli/leading.ts) —,
// preempt, or retry a status patch that failed (the next attempt writes it again).
import type { SchedulerMetrics } from './metrics.js';
import type { Namespace as NamespaceT, Node as NodeT, Pod as PodT, Service as ServiceT } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import { performance } from 'node:perf_hooks';
import { isTriremeError } from '../errors.js';
import type { ApiClient } from '../client/api-client.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { resource } from '../client/resources.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { ClusterCache } from './cache.js';
import { fitErrorMessage } from './fit-error.js';
import { Framework } from './framework.js';
import { DEFAULT_SCHEDULER_NAME, isPendingFor, newPodInfo, podKey, type PodInfo } from './pod-info.js';
import { SchedulingQueue } from './queue.js';
import { kubeTime } from '../api/time.js';

// Informer caches hold KubeObjects; these are the typed views the scheduler reads.
type Pod = PodT & KubeObject;
type Node = NodeT & KubeObject;
type Namespace = NamespaceT & KubeObject;
type Service = ServiceT & KubeObject;

const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const NAMESPACES = resource('', 'namespaces');
const SERVICES = resource('', 'services');

export interface SchedulerOptions {
  client: ApiClient;
  /** Client for events (default: `client`); a separate one keeps events off the bind connections. */
  eventClient?: ApiClient;
  clock?: Clock;
  logger?: Logger;
  schedulerName?: string;
  maxBindsInFlight?: number;
  percentageOfNodesToScore?: number;
  random?: () => number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxUnschedulableMs?: number;
  /** Longest stretch of back-to-back decisions before yielding to I/O. */
  sliceMs?: number;
  /** Metrics to record into (one per process and registry). */
  metrics?: SchedulerMetrics;
  /** Called after each decision with its duration (benchmarks). */
  onDecision?: (ms: number, pod: PodInfo, nodeName: string | undefined) => void;
}

export interface SchedulerStats {
  attempts: number;
  bound: number;
  unschedulable: number;
  bindErrors: number;
}

/** Whether two pod versions differ in what scheduling reads (anything but status and bookkeeping). */
function specChanged(a: Pod, b: Pod): boolean {
  const am = a.metadata ?? {};
  const bm = b.metadata ?? {};
  return JSON.stringify(a.spec) !== JSON.stringify(b.spec)
    || JSON.stringify(am.labels) !== JSON.stringify(bm.labels)
    || JSON.stringify(am.ownerReferences) !== JSON.stringify(bm.ownerReferences);
}

function nodeSignature(n: Node): string {
  const ready = (n.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([n.metadata?.labels, n.spec?.unschedulable, n.spec?.taints, n.status?.allocatable, ready]);
}

export class Scheduler {
  readonly cache = new ClusterCache();
  readonly queue: SchedulingQueue;
  readonly stats: SchedulerStats = { attempts: 0, bound: 0, unschedulable: 0, bindErrors: 0 };
  private readonly framework: Framework;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly name: string;
  private readonly events: EventRecorder;
  private readonly maxBinds: number;
  private readonly sliceMs: number;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly namespaces: Informer<Namespace>;
  private readonly services: Informer<Service>;
  private bindsInFlight = 0;
  private pumpScheduled = false;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.name = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.maxBinds = opts.maxBindsInFlight ?? 64;
    this.sliceMs = opts.sliceMs ?? 20;
    this.framework = new Framework({ percentageOfNodesToScore: opts.percentageOfNodesToScore, random: opts.random });
    this.queue = new SchedulingQueue({
      clock: this.clock, initialBackoffMs: opts.initialBackoffMs, maxBackoffMs: opts.maxBackoffMs,
      maxUnschedulableMs: opts.maxUnschedulableMs, onReady: () => this.pump(),
    });
    this.events = new EventRecorder(opts.eventClient ?? opts.client, { component: this.name }, { clock: this.clock, logger: this.log });
    const informerOpts = { logger: this.log, clock: this.clock };
    // One pod informer serves both the queue (unassigned) and the cache (assigned); terminal
    // pods are filtered out by the server and arrive as deletions when they finish.
    this.pods = new Informer<Pod>(opts.client, PODS, { ...informerOpts, fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' });
    this.nodes = new Informer<Node>(opts.client, NODES, informerOpts);
    this.namespaces = new Informer<Namespace>(opts.client, NAMESPACES, informerOpts);
    this.services = new Informer<Service>(opts.client, SERVICES, informerOpts);
    this.wire();
  }

  /** Starts the informers; resolves once every cache holds its first list. */
  async start(): Promise<void> {
    // Nodes and the rest first, so that the first decisions see the whole cluster.
    await Promise.all([this.nodes.start(), this.namespaces.start(), this.services.start()]);
    await this.pods.start();
    this.log.info({ nodes: this.cache.nodeCount, pending: this.queue.size }, 'scheduler started');
    this.opts.metrics?.attach(() => this.queue.counts());
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    this.opts.metrics?.attach(undefined);
    for (const i of [this.pods, this.nodes, this.namespaces, this.services]) i.stop();
    this.queue.close();
  }

  /** Resolves when no pod is ready to schedule and no bind is in flight (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    const c = this.queue.counts();
    return c.active === 0 && c.inflight === 0 && this.bindsInFlight === 0;
  }

  private wire(): void {
    this.pods.on({
      add: (p) => this.onPod(p, undefined),
      update: (old, p) => this.onPod(p, old),
      delete: (p) => {
        const key = podKey(p);
        this.queue.delete(key);
        if (this.cache.podState(key)) {
          this.cache.removePod(key);
          this.queue.moveAllToActive();
        }
      },
    });
    this.nodes.on({
      add: (n) => {
        this.cache.setNode(n);
        this.queue.moveAllToActive();
      },
      update: (old, n) => {
        this.cache.setNode(n);
        // Heartbeat-only updates change nothing a filter reads.
        if (nodeSignature(old) !== nodeSignature(n)) this.queue.moveAllToActive();
      },
      delete: (n) => this.cache.removeNode(n.metadata?.name ?? ''),
    });
    this.namespaces.on({
      add: (ns) => this.cache.setNamespace(ns),
      update: (_o, ns) => {
        this.cache.setNamespace(ns);
        this.queue.moveAllToActive();
      },
      delete: (ns) => this.cache.removeNamespace(ns.metadata?.name ?? ''),
    });
    const svcChanged = (s: Service) => {
      this.cache.setService(s);
      this.queue.moveAllToActive();
    };
    this.services.on({
      add: svcChanged,
      update: (_o, s) => svcChanged(s),
      delete: (s) => this.cache.removeService(s.metadata?.namespace ?? 'default', s.metadata?.name ?? ''),
    });
  }

  private onPod(pod: Pod, old: Pod | undefined): void {
    const key = podKey(pod);
    if (pod.spec?.nodeName) {
      // Bound (by us — confirming the assumption — or by anyone else).
      this.queue.delete(key);
      const wasCounted = this.cache.podState(key) !== undefined;
      this.cache.setPod(pod);
      // A newly placed pod can satisfy a waiting pod's affinity.
      if (!wasCounted && this.queue.unschedulableCount > 0) this.queue.moveAllToActive();
      return;
    }
    if (!isPendingFor(pod, this.name)) {
      this.queue.delete(key);
      this.cache.removePod(key);
      return;
    }
    // Assumed and being bound: the informer has not caught up yet.
    if (this.cache.podState(key)?.assumed) return;
    const info = newPodInfo(pod);
    if (old && this.queue.has(key)) this.queue.update(info, specChanged(old, pod));
    else this.queue.add(info);
  }

  /** Runs decisions soon, off the current call stack. */
  private pump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.runSlice();
    });
  }

  private runSlice(): void {
    if (this.stopped) return;
    const end = performance.now() + this.sliceMs;
    while (this.bindsInFlight < this.maxBinds) {
      const info = this.queue.pop();
      if (!info) break;
      this.scheduleOne(info);
      if (performance.now() > end) {
        // Let watch events and bind answers in before deciding more.
        this.pump();
        return;
      }
    }
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private scheduleOne(queued: PodInfo): void {
    const key = queued.key;
    const current = this.pods.get(queued.namespace, queued.name);
    if (!current || !isPendingFor(current, this.name) || this.cache.podState(key) !== undefined) {
      this.queue.done(key);
      return;
    }
    const info = current === queued.pod ? queued : newPodInfo(current);
    this.stats.attempts++;
    const t0 = performance.now();
    const result = this.framework.schedule(info, this.cache);
    const ms = performance.now() - t0;
    this.opts.onDecision?.(ms, info, result.ok ? result.nodeName : undefined);
    this.opts.metrics?.decided(result.ok ? 'scheduled' : 'unschedulable', ms / 1000);
    if (!result.ok) {
      this.stats.unschedulable++;
      this.queue.requeueUnschedulable(key);
      this.reportUnschedulable(current, fitErrorMessage(result.error));
      return;
    }
    this.cache.assume(info, result.nodeName);
    this.bindsInFlight++;
    void this.bind(info, current, result.nodeName).finally(() => {
      this.bindsInFlight--;
      this.pump();
      if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async bind(info: PodInfo, pod: Pod, nodeName: string): Promise<void> {
    try {
      await this.opts.client.createSubresource(PODS, info.namespace, info.name, 'binding', {
        apiVersion: 'v1', kind: 'Binding',
        metadata: { name: info.name, namespace: info.namespace, ...(info.uid ? { uid: info.uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
      this.stats.bound++;
      this.opts.metrics?.bound(true);
      this.queue.done(info.key);
      this.events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${info.namespace}/${info.name} to ${nodeName}`);
    } catch (err) {
      this.stats.bindErrors++;
      this.opts.metrics?.bound(false);
      this.cache.forget(info.key);
      // What it had taken on the node is free again.
      this.queue.moveAllToActive();
      if (isTriremeError(err, 'NotFound') || (isTriremeError(err, 'Conflict') && /already assigned|being deleted/.test(err.message))) {
        this.log.debug({ pod: info.key, err: (err as Error).message }, 'bind obsolete');
        this.queue.done(info.key);
        return;
      }
      this.log.warn({ pod: info.key, node: nodeName, err: (err as Error).message }, 'bind failed; retrying after back-off');
      this.events.event(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${(err as Error).message}`);
      this.queue.requeueBackoff(info.key);
    }
  }

  private reportUnschedulable(pod: Pod, message: string): void {
    this.log.debug({ pod: podKey(pod), message }, 'unschedulable');
    this.events.event(pod, 'Warning', 'FailedScheduling', message);
    const prev = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (prev?.status === 'False' && prev.reason === 'Unschedulable' && prev.message === message) return;
    const now = kubeTime(this.clock.now());
    const condition = {
      type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null,
      lastTransitionTime: prev?.status === 'False' && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    };
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    this.opts.client.patch(PODS, ns, name, 'strategic', { status: { conditions: [condition] } }, { subresource: 'status' })
      .catch((err: unknown) => this.log.debug({ pod: `${ns}/${name}`, err: (err as Error).message }, 'status patch failed'));
  }
}
