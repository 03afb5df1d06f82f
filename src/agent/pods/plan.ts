// The pod worker's container decisions, as one pure function: from the pod, what the runtime
// holds, what the probes say and the time, `planPod` says what to do next (start which
// container, wait out a back-off, kill after a probe failure, stop everything on deletion) and
// how each container looks (waiting reason, ready, started), whether the pod is done.
// Guarantees: pure (no I/O, no clock: `now` is an input), deterministic; init containers run one
// at a time in spec order, and no app container starts before all of them succeeded; a container
// instance is only ever planned for start once (attempt = the latest attempt + 1); the plan only
// asks for what the observation shows is missing, so executing a plan twice is harmless. A pod
// the node fence holds (`held`) runs nothing: its live instances are stopped and nothing starts
// until the hold is lifted; `graceCapMs` caps every stop's grace period (fencing stops fast).
// Does not: prepare anything (ports, volumes, env are the worker's edges) or execute actions.
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { ProbeKind } from '../probes/spec.js';
import { probeTerminationGracePeriodSeconds } from '../probes/spec.js';
import type { ContainerInfo } from '../runtime/runtime.js';
import { decideRestart, type BackoffConfig, type BackoffEntry } from './backoff.js';
import { normalisePolicy, shouldRestart, type RestartPolicy } from './restart-policy.js';
import { podPhase, type ContainerView } from './status.js';

export interface Waiting {
  reason: string;
  message?: string;
}

/** What the probes of one container say (from the probe manager and the worker's records). */
export interface ProbeView {
  /** The instance (attempt) the probes are registered for; undefined: none registered. */
  attempt?: number;
  /** The startup probe succeeded (true when there is none). */
  startupDone: boolean;
  /** Startup done and the readiness probe (if any) succeeded. */
  ready: boolean;
  /** A liveness or startup probe of `attempt` failed for good: the instance must be killed. */
  failed?: 'liveness' | 'startup';
}

export interface PodObservation {
  pod: Pod;
  /** The pod is gone from its source (deleted from the API, manifest removed). */
  gone: boolean;
  now: number;
  /** The pod's volumes are materialised (nothing may start before). */
  volumesReady: boolean;
  /** Every instance of each container, oldest first (the runtime's listPod). */
  instances: ReadonlyMap<string, readonly ContainerInfo[]>;
  probes: ReadonlyMap<string, ProbeView>;
  /** The restart back-off remembered per container. */
  backoff: ReadonlyMap<string, BackoffEntry>;
  backoffConfig: BackoffConfig;
  /** Why the worker could not start a container (CreateContainerConfigError, a mount failure). */
  blocked: ReadonlyMap<string, Waiting>;
  /** The node fence holds the pod (self-fencing while cut off): stop everything, start nothing. */
  held?: boolean;
  /** Upper bound of every stop's grace period (a fenced pod is stopped fast). */
  graceCapMs?: number;
}

export type PodAction =
  /** Start instance `attempt`; on success remember `backoff` (restarts only). */
  | { type: 'start'; container: string; init: boolean; attempt: number; backoff?: BackoffEntry }
  /** The exited container may not restart before `until` (CrashLoopBackOff). */
  | { type: 'backoff'; container: string; until: number; delayMs: number }
  /** Register the container's probes for the running instance `attempt`. */
  | { type: 'probe'; container: string; attempt: number; startedAt?: number }
  /** Forget the probes of a container whose instance exited. */
  | { type: 'unprobe'; container: string }
  /** A liveness/startup probe failed: stop the instance (preStop, SIGTERM, SIGKILL after grace). */
  | { type: 'kill'; container: string; attempt: number; graceMs: number; message: string }
  /** The pod is terminating: stop a live instance within the pod's grace period. */
  | { type: 'stop'; container: string; attempt: number; graceMs: number }
  /** Every container stopped: delete the pod from the API (not done for a pod already gone). */
  | { type: 'deletePod' }
  /** Remove what the runtime and the disk hold for the pod; the worker finishes. */
  | { type: 'cleanup' };

export interface PodPlan {
  actions: PodAction[];
  terminating: boolean;
  policy: RestartPolicy;
  /** An init container failed and will not be retried (restartPolicy Never): the pod failed. */
  initFailed: boolean;
  init: ContainerView[];
  containers: ContainerView[];
  /** Nothing will run again unless the pod changes: a terminal phase and nothing live. */
  done: boolean;
}

const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

export function probeOf(c: Container, kind: ProbeKind): Probe | undefined {
  return kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
}

export function hasProbes(c: Container): boolean {
  return PROBE_KINDS.some((k) => probeOf(c, k) !== undefined);
}

function succeeded(i: ContainerInfo | undefined): boolean {
  return i?.state === 'exited' && i.exitCode === 0;
}

function isLive(i: ContainerInfo | undefined): boolean {
  return i !== undefined && i.state !== 'exited';
}

/** The back-off message the kubelet shows in the waiting state. */
function backoffWaiting(pod: Pod, container: string, delayMs: number): Waiting {
  const m = pod.metadata ?? {};
  const secs = Math.round(delayMs / 1000);
  return { reason: 'CrashLoopBackOff', message: `back-off ${secs}s restarting failed container=${container} pod=${m.name ?? ''}_${m.namespace ?? 'default'}(${m.uid ?? ''})` };
}

/** Restart now (with the new back-off) or wait until the back-off is over. */
function restartOrWait(o: PodObservation, c: Container, latest: ContainerInfo, init: boolean): PodAction {
  const run = { startedAt: latest.startedAt ?? latest.finishedAt ?? o.now, finishedAt: latest.finishedAt ?? o.now };
  const d = decideRestart(o.backoff.get(c.name), run, o.now, o.backoffConfig);
  if (d.action === 'wait') return { type: 'backoff', container: c.name, until: d.until, delayMs: d.entry?.delayMs ?? 0 };
  return { type: 'start', container: c.name, init, attempt: latest.attempt + 1, backoff: d.entry };
}

/** A `stop` for every live instance, in spec order, then those of containers no longer in the spec. */
function stopAll(o: PodObservation, all: readonly Container[]): PodAction[] {
  const graceS = o.pod.metadata?.deletionGracePeriodSeconds ?? o.pod.spec?.terminationGracePeriodSeconds ?? 30;
  const graceMs = Math.min(graceS * 1000, o.graceCapMs ?? Infinity);
  const names = [...all.map((c) => c.name), ...[...o.instances.keys()].filter((n) => !all.some((c) => c.name === n))];
  const actions: PodAction[] = [];
  for (const name of names) {
    for (const i of o.instances.get(name) ?? []) if (isLive(i)) actions.push({ type: 'stop', container: name, attempt: i.attempt, graceMs });
  }
  return actions;
}

function planTermination(o: PodObservation, all: readonly Container[]): PodAction[] {
  const actions = stopAll(o, all);
  if (!o.gone) actions.push({ type: 'deletePod' });
  actions.push({ type: 'cleanup' });
  return actions;
}

/** Actions for the init containers: the first one not yet succeeded runs, alone. */
function planInit(o: PodObservation, policy: RestartPolicy, actions: PodAction[]): { done: boolean; failed: boolean } {
  for (const ic of o.pod.spec?.initContainers ?? []) {
    const latest = o.instances.get(ic.name)?.at(-1);
    if (succeeded(latest)) continue;
    if (!latest) {
      if (o.volumesReady) actions.push({ type: 'start', container: ic.name, init: true, attempt: 0 });
    } else if (latest.state === 'exited') {
      // An init container that failed is retried unless the pod never restarts anything.
      if (!shouldRestart(policy, latest.exitCode ?? 1, true)) return { done: false, failed: true };
      if (o.volumesReady) actions.push(restartOrWait(o, ic, latest, true));
    }
    return { done: false, failed: false };
  }
  return { done: true, failed: false };
}

function planApp(o: PodObservation, policy: RestartPolicy, c: Container, actions: PodAction[]): void {
  const latest = o.instances.get(c.name)?.at(-1);
  const probes = o.probes.get(c.name);
  if (!latest) {
    actions.push({ type: 'start', container: c.name, init: false, attempt: 0 });
    return;
  }
  if (latest.state === 'running') {
    if (probes?.attempt === latest.attempt && probes.failed) {
      const probe = probeOf(c, probes.failed);
      const grace = probeTerminationGracePeriodSeconds(probe, o.pod.spec?.terminationGracePeriodSeconds);
      actions.push({ type: 'kill', container: c.name, attempt: latest.attempt, graceMs: grace * 1000, message: `Container ${c.name} failed ${probes.failed} probe, will be restarted` });
    } else if (probes?.attempt !== latest.attempt && hasProbes(c)) {
      actions.push({ type: 'probe', container: c.name, attempt: latest.attempt, ...(latest.startedAt !== undefined ? { startedAt: latest.startedAt } : {}) });
    }
    return;
  }
  if (latest.state === 'exited') {
    if (probes?.attempt !== undefined) actions.push({ type: 'unprobe', container: c.name });
    if (shouldRestart(policy, latest.exitCode ?? 1, false)) actions.push(restartOrWait(o, c, latest, false));
  }
}

/** How one container looks in the status, given the plan's actions for it. */
function view(o: PodObservation, c: Container, init: boolean, initDone: boolean, actions: readonly PodAction[]): ContainerView {
  const list = o.instances.get(c.name) ?? [];
  const latest = list.at(-1);
  const previous = list.at(-2);
  const running = latest?.state === 'running';
  let waiting: Waiting | undefined;
  if (!running) {
    const wait = actions.find((a) => a.type === 'backoff' && a.container === c.name);
    const restarting = wait !== undefined || actions.some((a) => a.type === 'start' && a.container === c.name);
    if (wait?.type === 'backoff') waiting = backoffWaiting(o.pod, c.name, wait.delayMs);
    else if (latest?.state === 'exited' && !restarting) waiting = undefined; // terminated for good
    else waiting = o.blocked.get(c.name) ?? (latest ? undefined : { reason: init || initDone ? 'ContainerCreating' : 'PodInitializing' });
  }
  let ready: boolean;
  let started: boolean;
  if (init) {
    ready = succeeded(latest);
    started = running;
  } else {
    // Probe results only count for the instance they were registered for: a fresh instance
    // whose probes are not registered yet is neither ready nor started (if it has such probes).
    const p = o.probes.get(c.name);
    const current = latest !== undefined && p?.attempt === latest.attempt;
    ready = running && (!(c.readinessProbe || c.startupProbe) || (current && p.ready));
    started = running && (!c.startupProbe || (current && p.startupDone));
  }
  return {
    name: c.name, image: c.image ?? '',
    ...(latest ? { latest } : {}), ...(previous ? { previous } : {}),
    ...(waiting ? { waiting } : {}),
    ready, started,
  };
}

export function planPod(o: PodObservation): PodPlan {
  const spec = o.pod.spec;
  const policy = normalisePolicy(spec?.restartPolicy);
  const initSpecs = spec?.initContainers ?? [];
  const appSpecs = spec?.containers ?? [];
  const terminating = o.gone || Boolean(o.pod.metadata?.deletionTimestamp);
  const actions: PodAction[] = [];
  let init = { done: initSpecs.every((c) => succeeded(o.instances.get(c.name)?.at(-1))), failed: false };
  if (terminating) {
    actions.push(...planTermination(o, [...initSpecs, ...appSpecs]));
  } else if (o.held) {
    actions.push(...stopAll(o, [...initSpecs, ...appSpecs]));
    for (const c of appSpecs) if (o.probes.get(c.name)?.attempt !== undefined) actions.push({ type: 'unprobe', container: c.name });
  } else {
    init = planInit(o, policy, actions);
    if (init.done && o.volumesReady) for (const c of appSpecs) planApp(o, policy, c, actions);
  }
  const initViews = initSpecs.map((c) => view(o, c, true, init.done, actions));
  const appViews = appSpecs.map((c) => view(o, c, false, init.done, actions));
  const phase = podPhase({ policy, initFailed: init.failed, init: initViews, containers: appViews });
  const anyLive = [...o.instances.values()].some((l) => l.some(isLive));
  return {
    actions, terminating, policy, initFailed: init.failed, init: initViews, containers: appViews,
    done: !terminating && (phase === 'Succeeded' || phase === 'Failed') && !anyLive && actions.length === 0,
  };
}
