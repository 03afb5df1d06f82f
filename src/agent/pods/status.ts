// Pod status as the kubelet reports it: phase, conditions (PodScheduled, Initialized,
// ContainersReady, Ready) and per-container states, computed from what the runtime says.
// Guarantees: pure; a condition keeps its lastTransitionTime while its status does not change;
// the result is deterministic, so "changed?" is a plain comparison. Does not talk to the API.
import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import type { ContainerInfo } from '../runtime/runtime.js';
import type { RestartPolicy } from './restart-policy.js';
import { kubeTime } from '../../api/time.js';

/** What the worker knows about one container of the pod. */
export interface ContainerView {
  name: string;
  image: string;
  /** The latest instance (attempt = restartCount) and the one before. */
  latest?: ContainerInfo;
  previous?: ContainerInfo;
  /** Why it is not running, when it is waiting (never started, back-off, config error). */
  waiting?: { reason: string; message?: string };
  ready: boolean;
  started: boolean;
}

export interface StatusInput {
  pod: Pod;
  policy: RestartPolicy;
  init: ContainerView[];
  containers: ContainerView[];
  /** An init container failed for good (restartPolicy Never): the pod failed. */
  initFailed: boolean;
  nodeIp: string;
  startTime: number;
  now: number;
  runtimeName: string;
  /** Extra conditions (e.g. the port record), kept as given. */
  extraConditions?: PodCondition[];
}

function terminated(i: ContainerInfo, runtime: string): ContainerState {
  return {
    terminated: {
      exitCode: i.exitCode ?? 0,
      reason: i.reason ?? (i.exitCode === 0 ? 'Completed' : 'Error'),
      ...(i.message ? { message: i.message } : {}),
      ...(i.signal ? { signal: signalNumber(i.signal) } : {}),
      ...(i.startedAt !== undefined ? { startedAt: kubeTime(i.startedAt) } : {}),
      finishedAt: kubeTime(i.finishedAt ?? i.startedAt ?? 0),
      containerID: `${runtime}://${i.id}`,
    },
  };
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
function signalNumber(s: string): number {
  return SIGNAL_NUMBERS[s] ?? 0;
}

export function containerStatus(v: ContainerView, runtime: string): ContainerStatus {
  const l = v.latest;
  let state: ContainerState;
  let lastState: ContainerState = {};
  if (l?.state === 'running') {
    state = { running: { startedAt: kubeTime(l.startedAt ?? 0) } };
    if (v.previous?.state === 'exited') lastState = terminated(v.previous, runtime);
  } else if (v.waiting) {
    state = { waiting: { reason: v.waiting.reason, ...(v.waiting.message ? { message: v.waiting.message } : {}) } };
    if (l?.state === 'exited') lastState = terminated(l, runtime);
    else if (v.previous?.state === 'exited') lastState = terminated(v.previous, runtime);
  } else if (l?.state === 'exited') {
    state = terminated(l, runtime);
    if (v.previous?.state === 'exited') lastState = terminated(v.previous, runtime);
  } else {
    state = { waiting: { reason: 'ContainerCreating' } };
  }
  return {
    name: v.name,
    image: v.image,
    imageID: '',
    ...(l ? { containerID: `${runtime}://${l.id}` } : {}),
    ready: v.ready && l?.state === 'running',
    started: v.started && l?.state === 'running',
    restartCount: l?.attempt ?? 0,
    state,
    lastState,
  };
}

/** Kubernetes' phase rules over the containers' states. */
export function podPhase(in_: Pick<StatusInput, 'policy' | 'init' | 'containers' | 'initFailed'>): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (in_.initFailed) return 'Failed';
  const initDone = in_.init.every((c) => c.latest?.state === 'exited' && c.latest.exitCode === 0);
  if (!initDone) return 'Pending';
  let running = 0, waiting = 0, failed = 0, stopped = 0;
  for (const c of in_.containers) {
    const l = c.latest;
    if (l?.state === 'running') running++;
    else if (l?.state === 'exited') {
      stopped++;
      if (l.exitCode !== 0) failed++;
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === 0) return 'Pending';
  if (in_.policy === 'Always') return 'Running';
  if (in_.policy === 'OnFailure') return failed > 0 ? 'Running' : 'Succeeded';
  return failed > 0 ? 'Failed' : 'Succeeded';
}

function condition(prev: readonly PodCondition[] | undefined, type: string, ok: boolean, now: number, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : kubeTime(now);
  return { type, status, lastTransitionTime, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

export function computePodStatus(in_: StatusInput): PodStatus {
  const phase = podPhase(in_);
  const prev = in_.pod.status?.conditions;
  const initDone = in_.init.every((c) => c.latest?.state === 'exited' && c.latest.exitCode === 0);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReady = in_.containers.filter((c) => !(c.ready && c.latest?.state === 'running')).map((c) => c.name);
  const allReady = notReady.length === 0 && in_.containers.length > 0;
  const notReadyMsg = `containers with unready status: [${notReady.join(' ')}]`;
  const initPending = in_.init.filter((c) => !(c.latest?.state === 'exited' && c.latest.exitCode === 0)).map((c) => c.name);
  const conditions: PodCondition[] = [
    condition(prev, 'Initialized', initDone, in_.now, initDone ? undefined : 'ContainersNotInitialized', initDone ? undefined : `containers with incomplete status: [${initPending.join(' ')}]`),
    condition(prev, 'Ready', allReady, in_.now, allReady ? undefined : terminal ? 'PodCompleted' : 'ContainersNotReady', allReady || terminal ? undefined : notReadyMsg),
    condition(prev, 'ContainersReady', allReady, in_.now, allReady ? undefined : terminal ? 'PodCompleted' : 'ContainersNotReady', allReady || terminal ? undefined : notReadyMsg),
    condition(prev, 'PodScheduled', true, in_.now),
    ...(in_.extraConditions ?? []),
  ];
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: in_.nodeIp,
    hostIPs: [{ ip: in_.nodeIp }],
    podIP: in_.nodeIp,
    podIPs: [{ ip: in_.nodeIp }],
    startTime: kubeTime(in_.startTime),
    containerStatuses: in_.containers.map((c) => containerStatus(c, in_.runtimeName)),
    ...(in_.pod.status?.qosClass ? { qosClass: in_.pod.status.qosClass } : {}),
  };
  if (in_.init.length > 0) status.initContainerStatuses = in_.init.map((c) => containerStatus(c, in_.runtimeName));
  return status;
}
