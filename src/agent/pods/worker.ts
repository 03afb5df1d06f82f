// One pod's worker: drives what runs toward the pod's spec, one sync at a time.
// Each sync: (terminating? → preStop, SIGTERM, grace, SIGKILL, delete from the API, clean up)
// else ports → volumes → init containers in order → containers (start, restart per policy with
// back-off, kill on liveness/startup failure) → status (posted only when changed).
// Guarantees: syncs never overlap (a kick during a sync runs another one after it); a container
// instance is started at most once (the runtime refuses duplicates); the worker never throws
// (errors are logged and retried on the next kick). Does not watch the API: its owner feeds it
// pod updates (update/markGone) and kicks it on container exits and timers.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Container, Pod, PodCondition, Probe, Secret } from 'kubernetes-types/core/v1.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { ProbeManager } from '../probes/manager.js';
import { probeTerminationGracePeriodSeconds, type ProbeKind } from '../probes/spec.js';
import { runCommand } from '../probes/exec.js';
import type { ContainerContext } from '../runtime/context.js';
import type { ContainerInfo, Runtime } from '../runtime/runtime.js';
import { decideRestart, type BackoffConfig, type BackoffEntry } from './backoff.js';
import { ConfigError, buildArgv, buildEnv, envReferences } from './env.js';
import { PortAllocator, portEnv, resolvePort, type PortAssignment } from './ports.js';
import { normalisePolicy, shouldRestart } from './restart-policy.js';
import type { PodSink } from './sink.js';
import { computePodStatus, type ContainerView } from './status.js';
import { VolumeError, materialiseVolumes, prepareMounts, volumeReferences } from './volumes.js';

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
}

const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

function probeOf(c: Container, kind: ProbeKind): Probe | undefined {
  return kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
}

export function podDir(podsDir: string, uid: string): string {
  return path.join(podsDir, uid);
}

export class PodWorker {
  private gone = false;
  private syncing = false;
  private again = false;
  private finished = false;
  private timer: Timer | undefined;
  private timerAt = 0;
  private readonly backoff = new Map<string, BackoffEntry>();
  private readonly waiting = new Map<string, { reason: string; message?: string }>();
  private readonly contexts = new Map<string, { env: Record<string, string>; cwd: string }>();
  /** container → attempt whose probes are registered. */
  private readonly probed = new Map<string, number>();
  private readonly killRequests = new Map<string, string>();
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

  update(pod: Pod): void {
    this.pod = pod;
    this.kick();
  }

  /** The pod is no longer in the API (or its manifest is gone): stop it and clean up. */
  markGone(): void {
    this.gone = true;
    this.kick();
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
    if (this.gone || this.pod.metadata?.deletionTimestamp) {
      await this.terminate();
      return;
    }
    await fs.mkdir(this.dir, { recursive: true });
    await fs.writeFile(path.join(this.dir, 'pod.json'), JSON.stringify(this.pod));
    const ports = await this.ensurePorts();
    const sources = await this.fetchSources();
    const volumesOk = await this.ensureVolumes(sources);
    const instances = await this.instances();
    const policy = normalisePolicy(this.pod.spec?.restartPolicy);
    let initFailed = false;
    let initDone = true;
    if (volumesOk) {
      for (const ic of this.pod.spec?.initContainers ?? []) {
        const latest = instances.get(ic.name)?.at(-1);
        if (latest?.state === 'exited' && latest.exitCode === 0) continue;
        initDone = false;
        if (!latest) await this.startContainer(ic, 0, true, ports, sources);
        else if (latest.state === 'exited') {
          if (policy === 'Never') initFailed = true;
          else await this.restartOrWait(ic, latest, true, ports, sources);
        }
        break;
      }
      if (initDone) {
        for (const c of this.pod.spec?.containers ?? []) {
          let latest = instances.get(c.name)?.at(-1);
          if (latest?.state === 'running') {
            const why = this.killRequests.get(c.name);
            if (why !== undefined) {
              latest = await this.killForProbe(c, latest, why);
            } else {
              this.ensureProbes(c, latest, ports);
            }
          }
          if (!latest) await this.startContainer(c, 0, false, ports, sources);
          else if (latest.state === 'exited') {
            this.d.probes.remove(this.uid, c.name);
            this.probed.delete(c.name);
            if (shouldRestart(policy, latest.exitCode ?? 1, false)) await this.restartOrWait(c, latest, false, ports, sources);
            else this.waiting.delete(c.name);
          }
        }
      }
    } else {
      initDone = (this.pod.spec?.initContainers ?? []).length === 0;
    }
    await this.postStatus(policy, initFailed, ports);
    // Exits of instances this agent did not spawn are found by polling; keep a slow tick for
    // volume refreshes and missed events.
    this.kickAfter(this.d.volumeRefreshMs);
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

  private async fetchSources(): Promise<{ configMaps: Map<string, ConfigMap>; secrets: Map<string, Secret> }> {
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

  private async ensureVolumes(src: { configMaps: Map<string, ConfigMap>; secrets: Map<string, Secret> }): Promise<boolean> {
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
        if (!this.running.has(c.name)) this.waiting.set(c.name, { reason: 'ContainerCreating' });
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

  private async startContainer(c: Container, attempt: number, init: boolean, ports: PortAssignment, src: { configMaps: Map<string, ConfigMap>; secrets: Map<string, Secret> }): Promise<void> {
    let env: Record<string, string>;
    let argv: string[];
    let cwd: string;
    try {
      const mounts = await prepareMounts(this.dir, c, this.volumes ?? new Map());
      const base = { ...this.baseEnv(c, ports), HOME: mounts.root, ...mounts.env };
      env = buildEnv(this.pod, c, src, { podIP: this.d.nodeIp, hostIP: this.d.nodeIp }, base);
      argv = buildArgv(c, env);
      cwd = c.workingDir ? path.join(mounts.root, c.workingDir) : mounts.root;
      await fs.mkdir(cwd, { recursive: true });
    } catch (e) {
      if (!(e instanceof ConfigError) && !(e instanceof VolumeError)) throw e;
      this.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: e.message });
      this.eventOnce(`config/${c.name}`, 'Warning', 'Failed', `Error: ${e.message}`);
      this.kickAfter(10_000);
      return;
    }
    this.lastEvent.delete(`config/${c.name}`);
    const ref = { podUid: this.uid, name: c.name, attempt };
    const info = await this.d.runtime.start({
      ...ref, namespace: this.namespace, podName: this.name, argv, env, cwd,
      logDir: path.join(this.dir, 'logs', c.name),
    });
    this.contexts.set(c.name, { env, cwd });
    this.waiting.delete(c.name);
    this.sink.event(this.pod, 'Normal', 'Created', `Created container ${c.name}`);
    if (info.state === 'running') {
      this.running.add(c.name);
      this.sink.event(this.pod, 'Normal', 'Started', `Started container ${c.name}`);
      if (!init) this.ensureProbes(c, info, ports);
    } else if (info.reason === 'StartError') {
      this.sink.event(this.pod, 'Warning', 'Failed', `Error: ${info.message ?? 'failed to start'}`);
    }
    this.again = true;
  }

  private async restartOrWait(c: Container, latest: ContainerInfo, init: boolean, ports: PortAssignment, src: { configMaps: Map<string, ConfigMap>; secrets: Map<string, Secret> }): Promise<void> {
    const now = this.d.clock.now();
    const run = { startedAt: latest.startedAt ?? latest.finishedAt ?? now, finishedAt: latest.finishedAt ?? now };
    const decision = decideRestart(this.backoff.get(c.name), run, now, this.d.backoff);
    if (decision.action === 'wait') {
      const secs = Math.round((decision.entry?.delayMs ?? 0) / 1000);
      this.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${secs}s restarting failed container=${c.name} pod=${this.name}_${this.namespace}(${this.uid})` });
      this.eventOnce(`backoff/${c.name}`, 'Warning', 'BackOff', 'Back-off restarting failed container');
      this.kickAfter(decision.until - now);
      return;
    }
    this.backoff.set(c.name, decision.entry);
    this.lastEvent.delete(`backoff/${c.name}`);
    await this.startContainer(c, latest.attempt + 1, init, ports, src);
  }

  private ensureProbes(c: Container, info: ContainerInfo, ports: PortAssignment): void {
    if (this.probed.get(c.name) === info.attempt) return;
    this.probed.set(c.name, info.attempt);
    this.d.probes.remove(this.uid, c.name);
    this.killRequests.delete(c.name);
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
        if (!r.success && (kind === 'liveness' || kind === 'startup')) this.killRequests.set(c.name, `Container ${c.name} failed ${kind} probe, will be restarted`);
        this.kick();
      }, {
        ...(info.startedAt !== undefined ? { startedAt: info.startedAt } : {}),
        onFailure: (message) => this.sink.event(this.pod, 'Warning', 'Unhealthy', `${label} probe failed: ${message}`),
      });
    }
  }

  private async killForProbe(c: Container, latest: ContainerInfo, why: string): Promise<ContainerInfo | undefined> {
    this.killRequests.delete(c.name);
    this.sink.event(this.pod, 'Normal', 'Killing', why);
    const probe = c.livenessProbe ?? c.startupProbe;
    const grace = probeTerminationGracePeriodSeconds(probe, this.pod.spec?.terminationGracePeriodSeconds);
    this.d.probes.remove(this.uid, c.name);
    this.probed.delete(c.name);
    await this.stopInstance(c, latest, grace * 1000);
    return this.d.runtime.inspect(latest);
  }

  /** preStop exec hook (bounded by the grace period), then SIGTERM → SIGKILL for the rest of it. */
  private async stopInstance(c: Container | undefined, inst: ContainerInfo, graceMs: number): Promise<void> {
    const started = Date.now();
    const hook = c?.lifecycle?.preStop?.exec?.command;
    const ctx = this.contexts.get(inst.name);
    if (hook && hook.length > 0 && graceMs > 0) {
      const r = await runCommand(hook, { env: ctx?.env ?? {}, cwd: ctx?.cwd ?? this.dir, timeoutMs: graceMs });
      if (r.exitCode !== 0) this.sink.event(this.pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: exit code ${r.exitCode}: ${r.output.slice(0, 200)}`);
    }
    await this.d.runtime.stop(inst, Math.max(0, graceMs - (Date.now() - started)));
  }

  private async terminate(): Promise<void> {
    const spec = this.pod.spec;
    const graceS = this.pod.metadata?.deletionGracePeriodSeconds ?? spec?.terminationGracePeriodSeconds ?? 30;
    const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
    const live = (await this.d.runtime.listPod(this.uid)).filter((i) => i.state !== 'exited');
    this.d.probes.remove(this.uid);
    await Promise.all(live.map(async (inst) => {
      this.sink.event(this.pod, 'Normal', 'Killing', `Stopping container ${inst.name}`);
      await this.stopInstance(all.find((c) => c.name === inst.name), inst, graceS * 1000);
    }));
    if (!this.gone) await this.sink.deletePod(this.pod);
    await this.d.runtime.removePod(this.uid);
    this.d.ports.release(this.uid);
    await fs.rm(this.dir, { recursive: true, force: true });
    this.finished = true;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.onFinished(this.uid);
  }

  private async postStatus(policy: ReturnType<typeof normalisePolicy>, initFailed: boolean, ports: PortAssignment): Promise<void> {
    const instances = await this.instances();
    const view = (c: Container, init: boolean): ContainerView => {
      const l = instances.get(c.name) ?? [];
      const latest = l.at(-1);
      const running = latest?.state === 'running';
      const probesReady = this.d.probes.isReady(this.uid, c.name);
      const w = this.waiting.get(c.name);
      // A waiting reason only applies while the latest instance is not running.
      const waiting = running ? undefined : w ?? (latest ? undefined : { reason: init || this.initComplete(instances) ? 'ContainerCreating' : 'PodInitializing' });
      return {
        name: c.name, image: c.image ?? '',
        ...(latest ? { latest } : {}), ...(l.at(-2) ? { previous: l.at(-2) } : {}),
        ...(waiting ? { waiting } : {}),
        ready: init ? latest?.state === 'exited' && latest.exitCode === 0 : running && probesReady,
        started: running && this.d.probes.startupDone(this.uid, c.name),
      };
    };
    const extra: PodCondition[] = Object.keys(ports).length > 0
      ? [{ type: 'trireme.io/PortsAllocated', status: 'True', reason: 'HostPorts', message: JSON.stringify(ports) }]
      : [];
    // Transition times come from what we last computed (the informer's copy may lag behind).
    const pod: Pod = { ...this.pod, status: { ...this.pod.status, conditions: this.lastConditions ?? this.pod.status?.conditions ?? [] } };
    const status = computePodStatus({
      pod, policy, initFailed, nodeIp: this.d.nodeIp, startTime: this.startTime, now: this.d.clock.now(), runtimeName: this.d.runtime.name,
      init: (this.pod.spec?.initContainers ?? []).map((c) => view(c, true)),
      containers: (this.pod.spec?.containers ?? []).map((c) => view(c, false)),
      extraConditions: extra,
    });
    this.lastConditions = status.conditions;
    const json = JSON.stringify(status);
    if (json === this.lastStatus) return;
    await this.sink.patchStatus(this.pod, status);
    this.lastStatus = json;
  }

  private initComplete(instances: Map<string, ContainerInfo[]>): boolean {
    return (this.pod.spec?.initContainers ?? []).every((c) => {
      const l = instances.get(c.name)?.at(-1);
      return l?.state === 'exited' && l.exitCode === 0;
    });
  }
}
