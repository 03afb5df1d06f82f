// One pod's worker: drives what runs toward the pod's spec, one sync at a time, by executing
// the plan of plan.ts. Each sync: the edges (pod directory, host ports, ConfigMaps/Secrets,
// volumes; skipped while terminating) → observe (runtime instances, probe results, back-off and
// start failures recorded here) → `planPod` → execute its actions (start, back-off timer,
// register/forget probes, kill, stop + delete + clean up) → plan again over a fresh observation
// for the status (posted only when changed).
// Guarantees: syncs never overlap (a kick during a sync runs another one after it); every
// action that changes what runs triggers another sync at once; a container instance is started
// at most once (the runtime refuses duplicates); the worker never throws (errors are logged and
// retried a second later). All decisions are the plan's; time comes from the injected clock.
// A deletion once seen stays (a stale update without deletionTimestamp does not revive a pod:
// deletion is irrevocable in the API). The node fence (src/agent/fence/) can stop a pod as gone
// with a short grace (`fence`) or hold it stopped until released (`hold`/`release`).
// Does not watch the API: its owner feeds it pod updates (update/markGone) and kicks it on
// container exits and timers.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Container, Pod, PodCondition, Secret } from 'kubernetes-types/core/v1.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { ProbeManager } from '../probes/manager.js';
import type { ProbeKind } from '../probes/spec.js';
import { runCommand } from '../probes/exec.js';
import type { ContainerContext } from '../runtime/context.js';
import type { ContainerInfo, ContainerRef, Runtime } from '../runtime/runtime.js';
import type { BackoffConfig, BackoffEntry } from './backoff.js';
import { ConfigError, buildArgv, buildEnv, envReferences, serviceEnv } from './env.js';
import { planPod, probeOf, type PodAction, type PodObservation, type PodPlan, type ProbeView, type Waiting } from './plan.js';
import { PortAllocator, portEnv, resolvePort, type PortAssignment } from './ports.js';
import type { PodSink } from './sink.js';
import { computePodStatus } from './status.js';
import { VolumeError, materialiseVolumes, prepareMounts, volumeReferences } from './volumes.js';

type Sources = { configMaps: Map<string, ConfigMap>; secrets: Map<string, Secret> };

export interface WorkerDeps {
  nodeName: string;
  nodeIp: string;
  podsDir: string;
  runtime: Runtime;
  ports: PortAllocator;
  probes: ProbeManager;
  clock: Clock;
  logger: Logger;
  backoff: BackoffConfig;
  /** How often ConfigMap/Secret volumes are refreshed while nothing else happens. */
  volumeRefreshMs: number;
  /** Container starts and restarts are counted here (metrics). */
  metrics?: { containerStarted(started: boolean, restart: boolean): void };
}

const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

export function podDir(podsDir: string, uid: string): string {
  return path.join(podsDir, uid);
}

export class PodWorker {
  private gone = false;
  private held = false;
  private graceCapMs: number | undefined;
  private syncing = false;
  private again = false;
  private finished = false;
  private timer: Timer | undefined;
  private timerAt = 0;
  private readonly backoff = new Map<string, BackoffEntry>();
  /** Why a container could not be started (config error, mount failure), until it starts. */
  private readonly blocked = new Map<string, Waiting>();
  private readonly contexts = new Map<string, { env: Record<string, string>; cwd: string }>();
  /** container → attempt whose probes are registered. */
  private readonly probed = new Map<string, number>();
  /** A liveness/startup failure of the registered instance, until the plan kills it. */
  private readonly probeFailures = new Map<string, { attempt: number; kind: 'liveness' | 'startup' }>();
  private completedSyncs = 0;
  private volumes: Map<string, string> | undefined;
  private volumesAt = 0;
  private volumesVersion = '';
  private lastStatus = '';
  private lastConditions: PodCondition[] | undefined;
  private lastPorts = '';
  private lastEvent = new Map<string, string>();
  private readonly startTime: number;
  private readonly log: Logger;

  constructor(
    private pod: Pod,
    private readonly sink: PodSink,
    private readonly d: WorkerDeps,
    private readonly onFinished: (uid: string) => void,
  ) {
    this.startTime = pod.status?.startTime ? Date.parse(pod.status.startTime) : d.clock.now();
    this.log = d.logger.child({ pod: `${this.namespace}/${this.name}`, uid: this.uid });
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }
  get namespace(): string {
    return this.pod.metadata?.namespace ?? 'default';
  }
  get name(): string {
    return this.pod.metadata?.name ?? '';
  }
  /** The mirror pod's name for a static pod (`<name>-<node>`), else undefined. */
  mirrorName: string | undefined;

  get dir(): string {
    return podDir(this.d.podsDir, this.uid);
  }
  get current(): Pod {
    return this.pod;
  }
  /** How many syncs completed (lets a caller wait until the worker has looked at least once). */
  get syncs(): number {
    return this.completedSyncs;
  }

  update(pod: Pod): void {
    const del = this.pod.metadata?.deletionTimestamp;
    if (del && !pod.metadata?.deletionTimestamp) {
      // An update older than the deletion we saw (a stale informer after a partition): keep it deleted.
      const grace = this.pod.metadata?.deletionGracePeriodSeconds;
      pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: del, ...(grace !== undefined ? { deletionGracePeriodSeconds: grace } : {}) } };
    }
    this.pod = pod;
    this.kick();
  }

  /** The pod is no longer in the API (or its manifest is gone): stop it and clean up. */
  markGone(): void {
    this.gone = true;
    this.kick();
  }

  /** The node fence found the pod gone from the API: stop it within `graceCapMs` and clean up. */
  fence(graceCapMs: number): void {
    this.graceCapMs = Math.min(graceCapMs, this.graceCapMs ?? Infinity);
    this.markGone();
  }

  /** Self-fencing: stop every container within `graceCapMs` and start nothing until `release`. */
  hold(graceCapMs: number): void {
    if (this.held) return;
    this.held = true;
    this.graceCapMs = graceCapMs;
    this.kick();
  }

  /** The fence confirmed the pod still exists: run it again. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (!this.gone) this.graceCapMs = undefined;
    this.kick();
  }

  get isHeld(): boolean {
    return this.held;
  }

  kick(): void {
    if (this.finished) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    void (async () => {
      do {
        this.again = false;
        try {
          await this.sync();
        } catch (e) {
          this.log.error({ err: e }, 'pod sync failed');
          this.kickAfter(1000);
        }
      } while (this.again && !this.finished);
      this.syncing = false;
    })();
  }

  /** Stops timers (agent shutdown); leaves containers running. */
  stop(): void {
    this.finished = true;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.d.probes.remove(this.uid);
  }

  private kickAfter(ms: number): void {
    const at = this.d.clock.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.d.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, ms);
  }

  /** Context for exec/logs: env and cwd of the latest instance. */
  context(container: string): ContainerContext | undefined {
    const spec = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])].find((c) => c.name === container);
    if (!spec) return undefined;
    const ctx = this.contexts.get(container);
    return {
      podUid: this.uid, namespace: this.namespace, podName: this.name, container,
      env: ctx?.env ?? {}, cwd: ctx?.cwd ?? path.join(this.dir, 'rootfs', container),
      logDir: path.join(this.dir, 'logs', container),
      running: this.running.has(container),
    };
  }

  private running = new Set<string>();

  private eventOnce(key: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.lastEvent.get(key) === message) return;
    this.lastEvent.set(key, message);
    this.sink.event(this.pod, type, reason, message);
  }

  private async sync(): Promise<void> {
    const terminating = this.gone || Boolean(this.pod.metadata?.deletionTimestamp);
    let ports: PortAssignment = {};
    let sources: Sources = { configMaps: new Map(), secrets: new Map() };
    let volumesReady = false;
    // A held pod is cut off from the API: its edges (ConfigMaps, Secrets) would only fail.
    if (!terminating && !this.held) {
      // The edges before deciding: the pod's directory, host ports, ConfigMaps/Secrets, volumes.
      await fs.mkdir(this.dir, { recursive: true });
      await fs.writeFile(path.join(this.dir, 'pod.json'), JSON.stringify(this.pod));
      ports = await this.ensurePorts();
      sources = await this.fetchSources();
      volumesReady = await this.ensureVolumes(sources);
    }
    const plan = planPod(await this.observe(volumesReady));
    await this.execute(plan, ports, sources);
    if (plan.terminating) {
      this.completedSyncs++;
      return;
    }
    // The status shows the state after the actions ran: the plan of a fresh observation (its
    // actions, if any, are the next sync's job; `again` is set by every action that changed
    // what runs).
    const after = planPod(await this.observe(volumesReady));
    // A held pod's status waits for the fence's verdict (the API is unreachable meanwhile).
    if (!this.held) await this.postStatus(after, ports);
    // Exits of instances this agent did not spawn are found by polling; keep a slow tick for
    // volume refreshes and missed events, until the pod is done for good.
    if (!after.done) this.kickAfter(this.d.volumeRefreshMs);
    this.completedSyncs++;
  }

  /** What the plan decides over: the runtime's instances, the probes, the worker's records. */
  private async observe(volumesReady: boolean): Promise<PodObservation> {
    const instances = await this.instances();
    const probes = new Map<string, ProbeView>();
    for (const c of this.pod.spec?.containers ?? []) {
      const attempt = this.probed.get(c.name);
      const failure = this.probeFailures.get(c.name);
      probes.set(c.name, {
        ...(attempt !== undefined ? { attempt } : {}),
        startupDone: this.d.probes.startupDone(this.uid, c.name),
        ready: this.d.probes.isReady(this.uid, c.name),
        ...(failure && failure.attempt === attempt ? { failed: failure.kind } : {}),
      });
    }
    return {
      pod: this.pod, gone: this.gone, now: this.d.clock.now(), volumesReady, instances, probes,
      backoff: new Map(this.backoff), backoffConfig: this.d.backoff, blocked: new Map(this.blocked),
      ...(this.held ? { held: true } : {}), ...(this.graceCapMs !== undefined ? { graceCapMs: this.graceCapMs } : {}),
    };
  }

  /** Runs the plan's actions in order; the stops of a terminating pod run in parallel. */
  private async execute(plan: PodPlan, ports: PortAssignment, sources: Sources): Promise<void> {
    const specs = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])];
    const specOf = (name: string): Container | undefined => specs.find((c) => c.name === name);
    const ref = (name: string, attempt: number): ContainerRef => ({ podUid: this.uid, name, attempt });
    if (plan.terminating) this.d.probes.remove(this.uid);
    const stops = plan.actions.filter((a): a is Extract<PodAction, { type: 'stop' }> => a.type === 'stop');
    await Promise.all(stops.map(async (a) => {
      this.sink.event(this.pod, 'Normal', 'Killing', `Stopping container ${a.container}`);
      await this.stopInstance(specOf(a.container), ref(a.container, a.attempt), a.graceMs);
    }));
    for (const a of plan.actions) {
      switch (a.type) {
        case 'start': {
          const c = specOf(a.container);
          if (!c) break;
          if (a.backoff) {
            this.backoff.set(c.name, a.backoff);
            this.lastEvent.delete(`backoff/${c.name}`);
          }
          await this.startContainer(c, a.attempt, ports, sources);
          break;
        }
        case 'backoff':
          this.eventOnce(`backoff/${a.container}`, 'Warning', 'BackOff', 'Back-off restarting failed container');
          this.kickAfter(a.until - this.d.clock.now());
          break;
        case 'probe': {
          const c = specOf(a.container);
          if (c) this.ensureProbes(c, a.attempt, a.startedAt, ports);
          break;
        }
        case 'unprobe':
          this.forgetProbes(a.container);
          break;
        case 'kill':
          this.sink.event(this.pod, 'Normal', 'Killing', a.message);
          this.forgetProbes(a.container);
          await this.stopInstance(specOf(a.container), ref(a.container, a.attempt), a.graceMs);
          this.again = true;
          break;
        case 'stop':
          break; // above
        case 'deletePod':
          await this.sink.deletePod(this.pod);
          break;
        case 'cleanup':
          await this.d.runtime.removePod(this.uid);
          this.d.ports.release(this.uid);
          await fs.rm(this.dir, { recursive: true, force: true });
          this.finished = true;
          if (this.timer) this.d.clock.clearTimeout(this.timer);
          this.onFinished(this.uid);
          break;
      }
    }
  }

  private async instances(): Promise<Map<string, ContainerInfo[]>> {
    const m = new Map<string, ContainerInfo[]>();
    for (const i of await this.d.runtime.listPod(this.uid)) {
      const l = m.get(i.name) ?? [];
      l.push(i);
      m.set(i.name, l);
    }
    this.running = new Set([...m].filter(([, l]) => l.at(-1)?.state === 'running').map(([n]) => n));
    for (const [name, l] of m) {
      const latest = l.at(-1);
      if (latest && !this.contexts.has(name)) {
        // Adopted after an agent restart: exec must see what the process was started with.
        const cfg = await this.d.runtime.config(latest);
        if (cfg) this.contexts.set(name, { env: cfg.env, cwd: cfg.cwd });
      }
    }
    return m;
  }

  private async ensurePorts(): Promise<PortAssignment> {
    const file = path.join(this.dir, 'ports.json');
    const ports = await this.d.ports.allocate(this.uid, this.pod);
    const json = JSON.stringify(ports);
    if (json !== this.lastPorts) {
      await fs.writeFile(file, json);
      this.lastPorts = json;
    }
    if (Object.keys(ports).length > 0 && this.pod.metadata?.annotations?.['trireme.io/ports'] !== json) {
      await this.sink.recordPorts(this.pod, ports);
    }
    return ports;
  }

  private async fetchSources(): Promise<Sources> {
    const cms = new Set<string>();
    const secs = new Set<string>();
    const add = (r: { configMaps: Set<string>; secrets: Set<string> }): void => {
      for (const n of r.configMaps) cms.add(n);
      for (const n of r.secrets) secs.add(n);
    };
    add(volumeReferences(this.pod));
    for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) add(envReferences(c));
    const configMaps = new Map<string, ConfigMap>();
    const secrets = new Map<string, Secret>();
    for (const n of cms) {
      const v = await this.sink.configMap(this.namespace, n);
      if (v) configMaps.set(n, v);
    }
    for (const n of secs) {
      const v = await this.sink.secret(this.namespace, n);
      if (v) secrets.set(n, v);
    }
    return { configMaps, secrets };
  }

  private async ensureVolumes(src: Sources): Promise<boolean> {
    const version = JSON.stringify([...src.configMaps.values(), ...src.secrets.values()].map((o) => o.metadata?.resourceVersion));
    const fresh = this.volumes && version === this.volumesVersion && this.d.clock.now() - this.volumesAt < this.d.volumeRefreshMs;
    if (fresh) return true;
    try {
      this.volumes = await materialiseVolumes(this.pod, this.dir, src);
      this.volumesAt = this.d.clock.now();
      this.volumesVersion = version;
      this.lastEvent.delete('mount');
      return true;
    } catch (e) {
      if (!(e instanceof VolumeError)) throw e;
      this.eventOnce('mount', 'Warning', 'FailedMount', `MountVolume.SetUp failed: ${e.message}`);
      for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) {
        if (!this.running.has(c.name)) this.blocked.set(c.name, { reason: 'ContainerCreating' });
      }
      this.kickAfter(2000);
      return this.volumes !== undefined;
    }
  }

  private baseEnv(c: Container, ports: PortAssignment): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOSTNAME: this.pod.spec?.hostname ?? this.name,
      POD_NAME: this.name,
      POD_NAMESPACE: this.namespace,
      POD_UID: this.uid,
      POD_IP: this.d.nodeIp,
      NODE_NAME: this.d.nodeName,
      ...portEnv(this.pod, c.name, ports),
    };
  }

  private async startContainer(c: Container, attempt: number, ports: PortAssignment, src: Sources): Promise<void> {
    let env: Record<string, string>;
    let argv: string[];
    let cwd: string;
    // Services as they are when the container starts (the kubelet's rule); an error retries the start.
    const services = this.sink.services ? await this.sink.services(this.namespace) : [];
    try {
      const mounts = await prepareMounts(this.dir, c, this.volumes ?? new Map());
      const svcEnv = serviceEnv(services, this.namespace, this.pod.spec?.enableServiceLinks !== false);
      const base = { ...svcEnv, ...this.baseEnv(c, ports), HOME: mounts.root, ...mounts.env };
      env = buildEnv(this.pod, c, src, { podIP: this.d.nodeIp, hostIP: this.d.nodeIp }, base);
      argv = buildArgv(c, env);
      cwd = c.workingDir ? path.join(mounts.root, c.workingDir) : mounts.root;
      await fs.mkdir(cwd, { recursive: true });
    } catch (e) {
      if (!(e instanceof ConfigError) && !(e instanceof VolumeError)) throw e;
      this.blocked.set(c.name, { reason: 'CreateContainerConfigError', message: e.message });
      this.eventOnce(`config/${c.name}`, 'Warning', 'Failed', `Error: ${e.message}`);
      this.kickAfter(10_000);
      return;
    }
    this.lastEvent.delete(`config/${c.name}`);
    const info = await this.d.runtime.start({
      podUid: this.uid, name: c.name, attempt, namespace: this.namespace, podName: this.name, argv, env, cwd,
      logDir: path.join(this.dir, 'logs', c.name),
    });
    this.contexts.set(c.name, { env, cwd });
    this.blocked.delete(c.name);
    this.d.metrics?.containerStarted(info.reason !== 'StartError', attempt > 0);
    this.sink.event(this.pod, 'Normal', 'Created', `Created container ${c.name}`);
    if (info.state === 'running') {
      this.running.add(c.name);
      this.sink.event(this.pod, 'Normal', 'Started', `Started container ${c.name}`);
    } else if (info.reason === 'StartError') {
      this.sink.event(this.pod, 'Warning', 'Failed', `Error: ${info.message ?? 'failed to start'}`);
    }
    // The next sync registers probes for a running instance or applies the restart policy.
    this.again = true;
  }

  /** Registers the probes of instance `attempt`; their failures are recorded for the plan. */
  private ensureProbes(c: Container, attempt: number, startedAt: number | undefined, ports: PortAssignment): void {
    this.probed.set(c.name, attempt);
    this.d.probes.remove(this.uid, c.name);
    this.probeFailures.delete(c.name);
    const ctxEnv = this.contexts.get(c.name);
    for (const kind of PROBE_KINDS) {
      const probe = probeOf(c, kind);
      if (!probe) continue;
      const label = kind[0]!.toUpperCase() + kind.slice(1);
      this.d.probes.add(this.uid, c.name, kind, probe, {
        host: this.d.nodeIp,
        resolvePort: (p) => resolvePort(this.pod, c.name, p, ports),
        exec: async (command, timeoutMs) => {
          const r = await runCommand(command, { env: ctxEnv?.env ?? {}, cwd: ctxEnv?.cwd ?? this.dir, timeoutMs });
          return { exitCode: r.exitCode, output: r.output };
        },
      }, (r) => {
        if (!r.success && (kind === 'liveness' || kind === 'startup')) this.probeFailures.set(c.name, { attempt, kind });
        this.kick();
      }, {
        ...(startedAt !== undefined ? { startedAt } : {}),
        onFailure: (message) => this.sink.event(this.pod, 'Warning', 'Unhealthy', `${label} probe failed: ${message}`),
      });
    }
  }

  private forgetProbes(container: string): void {
    this.d.probes.remove(this.uid, container);
    this.probed.delete(container);
    this.probeFailures.delete(container);
  }

  /** preStop exec hook (bounded by the grace period), then SIGTERM → SIGKILL for the rest of it. */
  private async stopInstance(c: Container | undefined, inst: ContainerRef, graceMs: number): Promise<void> {
    const started = this.d.clock.now();
    const hook = c?.lifecycle?.preStop?.exec?.command;
    const ctx = this.contexts.get(inst.name);
    if (hook && hook.length > 0 && graceMs > 0) {
      const r = await runCommand(hook, { env: ctx?.env ?? {}, cwd: ctx?.cwd ?? this.dir, timeoutMs: graceMs });
      if (r.exitCode !== 0) this.sink.event(this.pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: exit code ${r.exitCode}: ${r.output.slice(0, 200)}`);
    }
    await this.d.runtime.stop(inst, Math.max(0, graceMs - (this.d.clock.now() - started)));
  }

  private async postStatus(plan: PodPlan, ports: PortAssignment): Promise<void> {
    const extra: PodCondition[] = Object.keys(ports).length > 0
      ? [{ type: 'trireme.io/PortsAllocated', status: 'True', reason: 'HostPorts', message: JSON.stringify(ports) }]
      : [];
    // Transition times come from what we last computed (the informer's copy may lag behind).
    const pod: Pod = { ...this.pod, status: { ...this.pod.status, conditions: this.lastConditions ?? this.pod.status?.conditions ?? [] } };
    const status = computePodStatus({
      pod, policy: plan.policy, initFailed: plan.initFailed, nodeIp: this.d.nodeIp, startTime: this.startTime, now: this.d.clock.now(), runtimeName: this.d.runtime.name,
      init: plan.init, containers: plan.containers, extraConditions: extra,
    });
    this.lastConditions = status.conditions;
    const json = JSON.stringify(status);
    if (json === this.lastStatus) return;
    await this.sink.patchStatus(this.pod, status);
    this.lastStatus = json;
  }
}
