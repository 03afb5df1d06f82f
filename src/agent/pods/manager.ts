// The pods of this node: an informer on pods with spec.nodeName=<node>, one PodWorker per pod
// uid, plus the static pods handed in by the static-pod source; and the ContainerLookup for the
// kubelet API.
// Guarantees: at most one worker per pod uid; after the first list, anything the runtime holds
// for a uid that is neither an API pod of this node nor a static pod is stopped and removed
// (cleanup after an agent restart); running containers of known pods are re-adopted, never
// restarted. For the node fence (src/agent/fence/): a snapshot of what runs here, and applying
// a fence plan — a pod fenced as gone is remembered (tombstone), so a stale informer event can
// never start it again. Does not stop containers on `stop()` (they outlive the agent by design).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient } from '../../client/api-client.js';
import { Informer } from '../../client/informer.js';
import { resource } from '../../client/resources.js';
import type { Logger } from '../../util/log.js';
import { TriremeError } from '../../errors.js';
import { selfFenceTargets, type FencePlan, type LocalPod } from '../fence/plan.js';
import type { ContainerLookup } from '../runtime/context.js';
import type { ContainerInfo } from '../runtime/runtime.js';
import type { PodSink } from './sink.js';
import { restorePorts } from './ports-file.js';
import { PodWorker, type WorkerDeps } from './worker.js';

type PodObj = Pod & KubeObject;

/** One running container instance: what usage stats are read for. */
export interface RunningContainer {
  podUid: string;
  namespace: string;
  /** The API's name of the pod (a static pod's mirror name). */
  podName: string;
  podStartTime?: string;
  container: string;
  attempt: number;
  /** The container's first process: its session and process group id. */
  pid: number;
  /** ms since the epoch. */
  startedAt: number;
}

/** Pause before a new pod informer after the API refused the first list for good. */
const INFORMER_RETRY_MS = 10_000;
/** How long a fenced uid is remembered when the informer never reports its deletion. */
const TOMBSTONE_TTL_MS = 3_600_000;
/** After the fence's grace, how long SIGKILLed containers may take to be gone. */
const FENCE_KILL_WAIT_MS = 10_000;

export class PodManager {
  private readonly workers = new Map<string, PodWorker>();
  /** Workers of static pods (their sink is not the API's). */
  private readonly statics = new Set<string>();
  /** uid → when the fence found it gone from the API: never run again. */
  private readonly tombstones = new Map<string, number>();
  private informer: Informer<PodObj> | undefined;
  private stopped = false;
  private readonly log: Logger;

  /** Pods with a worker on this node (metrics). */
  get size(): number {
    return this.workers.size;
  }

  constructor(private readonly d: WorkerDeps, private readonly apiSink: PodSink | undefined) {
    this.log = d.logger;
    d.runtime.onExit((info) => this.workers.get(info.podUid)?.kick());
  }

  /** Restores port assignments from disk, so no port is handed out twice after a restart. */
  async restore(): Promise<void> {
    await restorePorts(this.d.podsDir, this.d.ports, this.log);
  }

  /**
   * Starts the informer; resolves after the first list is handled. A first list refused for good
   * (401/403/404: the informer gives up) is logged and tried again every INFORMER_RETRY_MS with a
   * fresh informer, since the node's permissions may be fixed meanwhile; rejects only on stop().
   */
  async startInformer(client: ApiClient): Promise<void> {
    for (;;) {
      const inf = new Informer<PodObj>(client, resource('', 'pods'), { fieldSelector: `spec.nodeName=${this.d.nodeName}`, logger: this.log, clock: this.d.clock });
      inf.on({
        add: (p) => this.upsert(p, this.apiSink),
        update: (_o, p) => this.upsert(p, this.apiSink),
        delete: (p) => {
          const uid = p.metadata?.uid ?? '';
          this.tombstones.delete(uid); // the informer is past the deletion: no older event follows
          this.workers.get(uid)?.markGone();
        },
      });
      this.informer = inf;
      try {
        await inf.start();
        return;
      } catch (err) {
        if (this.stopped) throw err;
        this.log.error({ err, retryMs: INFORMER_RETRY_MS }, 'cannot list the pods of this node; retrying');
        await new Promise<void>((r) => this.d.clock.setTimeout(r, INFORMER_RETRY_MS));
        if (this.stopped) throw err;
      }
    }
  }

  /** Adds or updates a pod (from the API or a static manifest) with the sink it reports to. */
  upsert(pod: Pod, sink: PodSink | undefined): void {
    const uid = pod.metadata?.uid;
    if (!uid || !sink) return;
    if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined && this.apiSink === sink) return; // mirror pods are run from their manifest
    if (this.tombstones.has(uid) && this.apiSink === sink) return; // fenced: a stale event
    const w = this.workers.get(uid);
    if (w) {
      w.update(structuredClone(pod));
      return;
    }
    const worker = new PodWorker(structuredClone(pod), sink, this.d, (u) => {
      this.workers.delete(u);
      this.statics.delete(u);
    });
    this.workers.set(uid, worker);
    if (sink !== this.apiSink) this.statics.add(uid);
    worker.kick();
  }

  /** Stops a pod that is gone from its source. */
  remove(uid: string): void {
    this.workers.get(uid)?.markGone();
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  /** Removes what the runtime holds for pods nobody owns (call once every source has listed). */
  async cleanupOrphans(): Promise<void> {
    // Dot files are not pods (the node status's write check, readings.ts, may be running now).
    const entries = (await fs.readdir(this.d.podsDir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
    const dirs = new Set([...(await this.d.runtime.listPods()), ...entries]);
    for (const uid of dirs) {
      if (this.workers.has(uid)) continue;
      this.log.info({ uid }, 'removing containers of a pod that is not bound to this node');
      await this.removeRuntimePod(uid);
    }
  }

  /** What runs here now: every worker, and pods the runtime holds that have none (yet). */
  async snapshot(): Promise<LocalPod[]> {
    const out: LocalPod[] = [...this.workers].map(([uid, w]) => ({ uid, source: this.sourceOf(uid), held: w.isHeld }));
    for (const uid of await this.d.runtime.listPods()) if (!this.workers.has(uid)) out.push({ uid, source: 'runtime', held: false });
    return out;
  }

  /**
   * Applies a fence plan; resolves once no container of a pod it stopped is alive. Those get
   * `graceCapMs` (SIGTERM, then SIGKILL); one still alive after that is SIGKILLed directly.
   * Rejects (Timeout) if a container survives even that, so the caller does not report Ready.
   */
  async applyFence(plan: FencePlan, graceCapMs: number): Promise<void> {
    const now = this.d.clock.now();
    for (const [uid, at] of this.tombstones) if (now - at > TOMBSTONE_TTL_MS) this.tombstones.delete(uid);
    for (const p of plan.update) {
      const uid = p.metadata?.uid ?? '';
      if (!this.statics.has(uid)) this.workers.get(uid)?.update(structuredClone(p));
    }
    for (const uid of plan.release) this.workers.get(uid)?.release();
    for (const { uid } of plan.stop) {
      this.tombstones.set(uid, now);
      this.log.warn({ uid }, 'fence: stopping a pod that is gone from the API');
    }
    await Promise.all(plan.stop.map(async ({ uid }) => {
      const w = this.workers.get(uid);
      if (w) w.fence(graceCapMs);
      else await this.removeRuntimePod(uid);
    }));
    const uids = plan.stop.map((s) => s.uid);
    if (await this.waitNoneLive(uids, graceCapMs + 500)) return;
    for (const uid of uids) for (const i of await this.d.runtime.listPod(uid)) if (i.state !== 'exited') await this.d.runtime.stop(i, 0);
    if (await this.waitNoneLive(uids, FENCE_KILL_WAIT_MS)) return;
    throw new TriremeError('Timeout', `fence: containers of ${uids.join(', ')} are still alive after SIGKILL`);
  }

  /** Holds the self-fencing pods (annotation trireme.io/self-fence) not held yet; returns their uids. */
  holdSelfFencing(graceCapMs: number): string[] {
    const targets = selfFenceTargets([...this.workers].map(([uid, w]) => ({ uid, source: this.sourceOf(uid), held: w.isHeld, pod: w.current })));
    for (const uid of targets) this.workers.get(uid)?.hold(graceCapMs);
    return targets;
  }

  private sourceOf(uid: string): 'api' | 'static' {
    return this.statics.has(uid) ? 'static' : 'api';
  }

  private async waitNoneLive(uids: readonly string[], withinMs: number): Promise<boolean> {
    const deadline = this.d.clock.now() + withinMs;
    for (;;) {
      let live = false;
      for (const uid of uids) if ((await this.d.runtime.listPod(uid)).some((i) => i.state !== 'exited')) live = true;
      if (!live) return true;
      if (this.d.clock.now() >= deadline) return false;
      await new Promise<void>((r) => this.d.clock.setTimeout(r, 50));
    }
  }

  private async removeRuntimePod(uid: string): Promise<void> {
    await this.d.runtime.removePod(uid);
    this.d.ports.release(uid);
    await fs.rm(path.join(this.d.podsDir, uid), { recursive: true, force: true });
  }

  /** The running container instances of every pod here (latest attempt each), for usage stats. */
  async runningContainers(): Promise<RunningContainer[]> {
    const out: RunningContainer[] = [];
    for (const [uid, w] of this.workers) {
      const latest = new Map<string, ContainerInfo>();
      for (const c of await this.d.runtime.listPod(uid)) latest.set(c.name, c);
      for (const c of latest.values()) {
        if (c.state !== 'running' || c.pid === undefined) continue;
        out.push({
          podUid: uid, namespace: w.namespace, podName: w.mirrorName ?? w.name, container: c.name, attempt: c.attempt, pid: c.pid,
          startedAt: c.startedAt ?? this.d.clock.now(), ...(w.current.status?.startTime ? { podStartTime: w.current.status.startTime } : {}),
        });
      }
    }
    return out;
  }

  readonly lookup: ContainerLookup = (namespace, pod, container) => {
    for (const w of this.workers.values()) {
      if (w.namespace === namespace && (w.name === pod || w.mirrorName === pod)) return w.context(container);
    }
    return undefined;
  };

  stop(): void {
    this.stopped = true;
    this.informer?.stop();
    for (const w of this.workers.values()) w.stop();
  }

  /** Workers by uid, for tests and the static pod source. */
  worker(uid: string): PodWorker | undefined {
    return this.workers.get(uid);
  }
}
