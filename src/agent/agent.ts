// The node agent: registers the Node and keeps it and its Lease fresh, runs the pods bound to
// this node (and the static pods of `<dataDir>/manifests/`) through the process runtime, and
// serves the kubelet API (logs, exec, resource usage) for the API server. The node fence (src/agent/fence/)
// guards every heartbeat report: after an outage, a suspension or a restart, pods deleted or
// replaced meanwhile are stopped before the node reports again.
// Guarantees: `startAgent` resolves once the kubelet API listens and static pods are started;
// it does not wait for the API server (pods from the API start as soon as it is reachable).
// `stop()` stops the agent's loops and servers but leaves containers running: a restarted agent
// re-adopts them (see docs/agent.md).
import { AgentMetrics } from './metrics.js';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '../client/api-client.js';
import { EventRecorder } from '../client/events.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { NodeFence } from './fence/fence.js';
import { NodeHeartbeat, type NodeConditionsConfig } from './node/heartbeat.js';
import { NodeReader, readHostFacts } from './node/readings.js';
import { DEFAULT_PRESSURE_TRANSITION_MS, DEFAULT_THRESHOLDS, NO_RESERVATION } from './node/thresholds.js';
import { DEFAULT_BACKOFF, type BackoffConfig } from './pods/backoff.js';
import { ApiPodSink } from './pods/api-sink.js';
import { PodManager } from './pods/manager.js';
import { PortAllocator } from './pods/ports.js';
import { ProbeManager } from './probes/manager.js';
import { ServiceProxy, type ServiceProxySettings } from './proxy/proxy.js';
import type { ContainerLookup } from './runtime/context.js';
import { ProcessRuntime } from './runtime/process-runtime.js';
import { startKubeletServer } from './server/server.js';
import { StaticPods } from './static-pods.js';
import { DEFAULT_STATS_PERIOD_MS, ResourceSampler } from './stats/sampler.js';
import { packageInfo } from '../util/package-info.js';
import { API_SERVERS_ANNOTATION } from '../api/node-annotations.js';

export interface AgentTimings {
  /** Node status refresh (also posted at once on change). */
  statusPeriodMs: number;
  /** Lease renewal. */
  leasePeriodMs: number;
  leaseDurationSeconds: number;
  /** Per-pod resync (ConfigMap/Secret volume refresh, missed exits). */
  podResyncMs: number;
  /** How often static pod manifests are re-read and mirror pods checked. */
  staticPodPeriodMs: number;
  /** How often running containers this agent did not spawn are checked for exit. */
  runtimePollMs: number;
  backoff: BackoffConfig;
  /** Readiness probe interval until a container's first readiness success (0: periodSeconds). */
  readinessFirstSuccessIntervalMs: number;
  /** Reports failing, or the agent suspended, for this long: fence before the next report. */
  fenceAfterMs: number;
  /** No report reached the API for this long: stop the pods annotated trireme.io/self-fence. */
  selfFenceAfterMs: number;
  /** Grace period of the containers of a fenced or self-fenced pod. */
  fenceStopGraceMs: number;
  /** How often the node's and containers' resource usage is sampled (the window of kubectl top). */
  statsPeriodMs: number;
}

/** `--readiness-first-success-interval`. */
export const DEFAULT_READINESS_FIRST_SUCCESS_INTERVAL_MS = 100;
/**
 * `--self-fence-after`: below the node lifecycle controller's default grace period (5 s, after
 * which a silent node is Unknown; its pods are evicted 1 s later), so self-fencing pods are
 * stopped before the controller starts replacing them.
 */
export const DEFAULT_SELF_FENCE_AFTER_MS = 4_000;
/** Below the controller's grace period: any silence that may have got the node evicted fences. */
export const DEFAULT_FENCE_AFTER_MS = 3_000;
export const DEFAULT_FENCE_STOP_GRACE_MS = 1_000;

export const DEFAULT_AGENT_TIMINGS: AgentTimings = {
  statusPeriodMs: 10_000,
  // 1 s: the node lifecycle controller's 5 s grace period then spans four missed renewals, so a
  // 3 s blip never makes the node Unknown (docs/controllers.md, Node lifecycle).
  leasePeriodMs: 1_000,
  leaseDurationSeconds: 10,
  podResyncMs: 10_000,
  staticPodPeriodMs: 5_000,
  runtimePollMs: 500,
  backoff: DEFAULT_BACKOFF,
  readinessFirstSuccessIntervalMs: DEFAULT_READINESS_FIRST_SUCCESS_INTERVAL_MS,
  fenceAfterMs: DEFAULT_FENCE_AFTER_MS,
  selfFenceAfterMs: DEFAULT_SELF_FENCE_AFTER_MS,
  fenceStopGraceMs: DEFAULT_FENCE_STOP_GRACE_MS,
  statsPeriodMs: DEFAULT_STATS_PERIOD_MS,
};

export interface AgentOptions {
  client: ApiClient;
  nodeName: string;
  nodeIp: string;
  dataDir: string;
  kubeletPort: number;
  portRange: [number, number];
  servingCertPem: string;
  servingKeyPem: string;
  caPem: string;
  logger: Logger;
  clock?: Clock;
  timings?: Partial<AgentTimings>;
  maxPods?: number;
  /** Pressure thresholds, system reservation, transition period (default: thresholds.ts). */
  nodeConditions?: Partial<NodeConditionsConfig>;
  /** The Service proxy (src/agent/proxy): its settings, or false to run none (`--disable-proxy`). */
  proxy?: ServiceProxySettings | false;
  /** The API server URLs this agent's client balances over, published on its Node (API_SERVERS_ANNOTATION). */
  knownServers?: () => string[];
}

export interface RunningAgent {
  /** The port the kubelet API listens on (kubeletPort, or the one picked for 0). */
  kubeletPort: number;
  lookup: ContainerLookup;
  /** The pod workers of this node, by pod uid. */
  pods: PodManager;
  /** This agent's metrics (served at the kubelet API's /metrics). */
  metrics: AgentMetrics;
  /** The node's Service proxy, unless disabled. */
  proxy: ServiceProxy | undefined;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const clock = opts.clock ?? systemClock;
  const t: AgentTimings = { ...DEFAULT_AGENT_TIMINGS, ...opts.timings };
  const log = opts.logger;
  const root = path.join(opts.dataDir, 'agent');
  const podsDir = path.join(root, 'pods');
  await fs.mkdir(podsDir, { recursive: true });
  const version = packageInfo().version;

  const runtime = new ProcessRuntime({ podsDir, logger: log, clock, pollMs: t.runtimePollMs });
  // Agents sharing a host start scanning their port range at different points.
  const [lo, hi] = opts.portRange;
  const offset = createHash('sha256').update(opts.nodeName).digest().readUInt32BE(0) % (hi - lo + 1);
  const ports = new PortAllocator(opts.portRange, undefined, lo + offset);
  const late: { heartbeat?: NodeHeartbeat; pods?: PodManager } = {}; // the heartbeat needs the fence, the fence reports through it
  const metrics = new AgentMetrics(clock, { lastRenewedAt: () => late.heartbeat?.lastRenewedAt, pods: () => late.pods?.size ?? 0 });
  const probes = new ProbeManager({ clock, readinessFirstSuccessIntervalMs: t.readinessFirstSuccessIntervalMs, onRun: (kind, ok) => metrics.probeRan(kind, ok) });
  const recorder = new EventRecorder(opts.client, { component: 'kubelet', host: opts.nodeName }, { clock, logger: log });
  const apiSink = new ApiPodSink(opts.client, recorder, log);
  const manager = new PodManager({
    nodeName: opts.nodeName, nodeIp: opts.nodeIp, podsDir, runtime, ports, probes, clock, logger: log,
    backoff: t.backoff, volumeRefreshMs: t.podResyncMs, metrics,
  }, apiSink);
  late.pods = manager;
  await manager.restore();

  const sampler = new ResourceSampler({ nodeName: opts.nodeName, containers: () => manager.runningContainers(), clock, logger: log, periodMs: t.statsPeriodMs });
  sampler.start();
  const server = await startKubeletServer({
    host: opts.nodeIp, port: opts.kubeletPort,
    servingCertPem: opts.servingCertPem, servingKeyPem: opts.servingKeyPem, caPem: opts.caPem,
    lookup: manager.lookup, logger: log, clock, metrics: metrics.registry, stats: () => sampler.summary(),
  });

  const statics = new StaticPods({
    dir: path.join(opts.dataDir, 'manifests'), nodeName: opts.nodeName, manager, client: opts.client, recorder, clock, logger: log,
    periodMs: t.staticPodPeriodMs,
  });
  await statics.start();

  const fence = new NodeFence({
    client: opts.client, nodeName: opts.nodeName, pods: manager, clock, logger: log,
    // Back after an outage or a suspension: the controller may have marked the node Unknown.
    onFenced: () => void late.heartbeat?.syncNode().catch((err: unknown) => log.warn({ err }, 'node status update after a fence failed')),
    ...(opts.clock ? { monotonicNow: () => clock.now() } : {}),
    // A renewal period longer than the threshold must not make every renewal fence first.
    config: { fenceAfterMs: Math.max(t.fenceAfterMs, 2 * t.leasePeriodMs), selfFenceAfterMs: t.selfFenceAfterMs, stopGraceMs: t.fenceStopGraceMs, tickMs: 250 },
  });
  fence.start();

  const reader = new NodeReader({ dataDir: opts.dataDir, logDir: podsDir, podsDir, shim: runtime.shimCommand, logger: log });
  const heartbeat = new NodeHeartbeat({
    client: opts.client, clock, logger: log, facts: await readHostFacts(), read: () => reader.read(),
    conditions: { thresholds: DEFAULT_THRESHOLDS, reserved: NO_RESERVATION, transitionMs: DEFAULT_PRESSURE_TRANSITION_MS, ...opts.nodeConditions },
    params: { nodeName: opts.nodeName, nodeIp: opts.nodeIp, kubeletPort: server.port, version, runtimeName: runtime.name, runtimeVersion: runtime.version, maxPods: opts.maxPods ?? 110 },
    statusPeriodMs: t.statusPeriodMs, leasePeriodMs: t.leasePeriodMs, leaseDurationSeconds: t.leaseDurationSeconds,
    guard: fence,
    ...(opts.knownServers ? { annotations: () => ({ [API_SERVERS_ANNOTATION]: [...opts.knownServers!()].sort().join(',') }) } : {}),
  });
  late.heartbeat = heartbeat;
  void heartbeat.start();

  let stopped = false;
  // The informer retries until the API answers; orphans are cleaned once we know what is ours.
  void manager.startInformer(opts.client).then(
    () => (stopped ? undefined : manager.cleanupOrphans()),
    (e: unknown) => {
      if (!stopped) log.error({ err: e }, 'pod informer failed to start');
    },
  ).catch((e: unknown) => log.error({ err: e }, 'orphan cleanup failed'));

  const proxy = opts.proxy === false ? undefined : new ServiceProxy({ client: opts.client, nodeName: opts.nodeName, nodeIp: opts.nodeIp, clusterKey: opts.caPem, logger: log, clock, ...opts.proxy });
  void proxy?.start().catch((e: unknown) => {
    if (!stopped) log.error({ err: e }, 'service proxy failed to start');
  });

  log.info({ node: opts.nodeName, ip: opts.nodeIp, kubeletPort: server.port, dataDir: opts.dataDir }, 'agent started');
  return {
    kubeletPort: server.port,
    metrics,
    lookup: manager.lookup,
    pods: manager,
    proxy,
    async stop() {
      stopped = true;
      await proxy?.stop();
      heartbeat.stop();
      fence.stop();
      statics.stop();
      manager.stop();
      apiSink.stop();
      probes.stopAll();
      runtime.close();
      sampler.stop();
      await server.stop();
    },
  };
}
