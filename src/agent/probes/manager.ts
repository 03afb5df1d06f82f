// The probes of every container on the node, for the pod worker.
// Guarantees: at most one worker per (pod, container, kind) — `add` replaces; liveness and
// readiness do not run until the container's startup probe (if any) succeeded; results are
// readable synchronously at any time. `onChange` is called:
//   - readiness: whenever ready flips (true or false);
//   - liveness: once, when it fails `failureThreshold` times (restart the container, then `add`
//     the probes again for the new instance);
//   - startup: once with success (startup done), or once with failure after `failureThreshold`
//     failures (restart the container).
// A readiness probe is retried every `readinessFirstSuccessIntervalMs` until its first success
// (off by default here; the agent turns it on: AgentTimings).
// Does not: restart containers or write pod status — the caller does, from onChange.
import type { Probe } from 'kubernetes-types/core/v1.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { proberFor } from './prober.js';
import { probeTiming, type ProbeKind } from './spec.js';
import type { ProbeContext, ProbeOutcome } from './types.js';
import { ProbeWorker } from './worker.js';

export interface ProbeAddOptions {
  /** When the container instance started (ms since the epoch); defaults to now. Pass the
   *  recorded start time when re-adopting a running container after an agent restart. */
  startedAt?: number;
  /** Each failed probe run (also before the threshold), for `Unhealthy` events. */
  onFailure?(message: string): void;
}

interface ContainerProbes {
  workers: Map<ProbeKind, ProbeWorker>;
}

export class ProbeManager {
  private readonly clock: Clock;
  private readonly containers = new Map<string, ContainerProbes>();
  private readonly readinessFirstSuccessIntervalMs: number;
  private readonly onRun: ((kind: ProbeKind, success: boolean) => void) | undefined;

  constructor(opts: { clock?: Clock; readinessFirstSuccessIntervalMs?: number; onRun?: (kind: ProbeKind, success: boolean) => void } = {}) {
    this.clock = opts.clock ?? systemClock;
    this.readinessFirstSuccessIntervalMs = opts.readinessFirstSuccessIntervalMs ?? 0;
    this.onRun = opts.onRun;
  }

  private static key(podUid: string, container: string): string {
    return `${podUid}\u0000${container}`;
  }

  add(
    podUid: string,
    containerName: string,
    kind: ProbeKind,
    probe: Probe,
    ctx: ProbeContext,
    onChange: (result: ProbeOutcome) => void,
    opts: ProbeAddOptions = {},
  ): void {
    const key = ProbeManager.key(podUid, containerName);
    let c = this.containers.get(key);
    if (!c) {
      c = { workers: new Map() };
      this.containers.set(key, c);
    }
    c.workers.get(kind)?.stop();
    const entry = c;
    const worker = new ProbeWorker({
      kind,
      timing: probeTiming(probe, kind),
      prober: proberFor(probe, ctx),
      clock: this.clock,
      startedAt: opts.startedAt ?? this.clock.now(),
      mayRun: () => kind === 'startup' || ProbeManager.startupDoneIn(entry),
      onResult: (r) => {
        if (kind === 'startup' && r.success) for (const w of entry.workers.values()) w.kick();
        onChange(r);
      },
      ...(opts.onFailure ? { onFailure: opts.onFailure } : {}),
      ...(this.onRun ? { onRun: (success: boolean) => this.onRun!(kind, success) } : {}),
      ...(kind === 'readiness' ? { firstSuccessIntervalMs: this.readinessFirstSuccessIntervalMs } : {}),
    });
    c.workers.set(kind, worker);
    worker.start();
  }

  /** Stops and forgets the probes of one container, or of the whole pod. */
  remove(podUid: string, containerName?: string): void {
    const prefix = ProbeManager.key(podUid, '');
    for (const [key, c] of this.containers) {
      const match = containerName === undefined ? key.startsWith(prefix) : key === ProbeManager.key(podUid, containerName);
      if (!match) continue;
      for (const w of c.workers.values()) w.stop();
      this.containers.delete(key);
    }
  }

  /** Stops everything (agent shutdown). */
  stopAll(): void {
    for (const c of this.containers.values()) for (const w of c.workers.values()) w.stop();
    this.containers.clear();
  }

  private static startupDoneIn(c: ContainerProbes): boolean {
    const s = c.workers.get('startup');
    return s === undefined || s.result;
  }

  /** True when the container has no startup probe or its startup probe succeeded. */
  startupDone(podUid: string, container: string): boolean {
    const c = this.containers.get(ProbeManager.key(podUid, container));
    return c === undefined || ProbeManager.startupDoneIn(c);
  }

  /** What the probes say about readiness: startup done and the readiness probe (if any)
   *  succeeded. The caller still ANDs this with "the container is running". */
  isReady(podUid: string, container: string): boolean {
    const c = this.containers.get(ProbeManager.key(podUid, container));
    if (c === undefined) return true;
    if (!ProbeManager.startupDoneIn(c)) return false;
    const r = c.workers.get('readiness');
    return r === undefined || r.result;
  }

  /** False once the liveness probe failed for this instance. */
  isAlive(podUid: string, container: string): boolean {
    return this.containers.get(ProbeManager.key(podUid, container))?.workers.get('liveness')?.result ?? true;
  }

  /** The current result of one probe, with the message of its last run; undefined if none. */
  result(podUid: string, container: string, kind: ProbeKind): ProbeOutcome | undefined {
    const w = this.containers.get(ProbeManager.key(podUid, container))?.workers.get(kind);
    return w === undefined ? undefined : { success: w.result, message: w.lastMessage };
  }
}
