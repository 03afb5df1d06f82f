// A Deployment's status and conditions (pure). Guarantees: the counts Kubernetes reports
// (replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
// observedGeneration, collisionCount); `Available` True/MinimumReplicasAvailable when at least
// replicas − maxUnavailable are available; `Progressing` as Kubernetes sets it — Unknown
// DeploymentPaused/DeploymentResumed, True NewReplicaSetCreated/ReplicaSetUpdated while pods
// move, True NewReplicaSetAvailable once complete, False ProgressDeadlineExceeded when no
// progress was made within progressDeadlineSeconds; lastTransitionTime only moves when the
// status changes. Does not: write the status or schedule the deadline check.
import type { DeploymentCondition, DeploymentStatus } from 'kubernetes-types/apps/v1.js';
import type { DeploymentObj, ReplicaSetObj } from '../common/types.js';
import { kubeTime } from '../../api/time.js';

export function countsStatus(d: DeploymentObj, all: readonly ReplicaSetObj[], newRs: ReplicaSetObj | undefined): DeploymentStatus {
  const sum = (f: (s: ReplicaSetObj) => number | undefined) => all.reduce((n, s) => n + (f(s) ?? 0), 0);
  const available = sum((s) => s.status?.availableReplicas);
  const total = sum((s) => s.status?.replicas);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: total,
    updatedReplicas: newRs?.status?.replicas ?? 0,
    readyReplicas: sum((s) => s.status?.readyReplicas),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, (d.spec?.replicas ?? 1) - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  return status;
}

/**
 * Sets a condition. Same status and reason: unchanged (no write churn), unless `refresh`, which
 * moves lastUpdateTime — the progress heartbeat the deadline is measured from.
 */
export function setCondition(conds: readonly DeploymentCondition[], c: DeploymentCondition, refresh = false): DeploymentCondition[] {
  const old = conds.find((x) => x.type === c.type);
  if (old && old.status === c.status && old.reason === c.reason) {
    if (!refresh) return [...conds];
    return conds.map((x) => (x === old ? { ...old, message: c.message, lastUpdateTime: c.lastUpdateTime } : x));
  }
  const next = old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  return [...conds.filter((x) => x.type !== c.type), next];
}

function cond(type: string, status: string, reason: string, message: string, now: number): DeploymentCondition {
  const t = kubeTime(now);
  return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t };
}

export interface ConditionInput {
  deployment: DeploymentObj;
  next: DeploymentStatus;
  newRs: ReplicaSetObj | undefined;
  maxUnavailable: number;
  /** A new ReplicaSet was created in this sync. */
  createdNewRs: boolean;
  now: number;
}

export function isComplete(d: DeploymentObj, s: DeploymentStatus): boolean {
  const want = d.spec?.replicas ?? 1;
  return s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want
    && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** Whether pods moved since the last recorded status (Kubernetes' DeploymentProgressing). */
export function madeProgress(old: DeploymentStatus | undefined, next: DeploymentStatus): boolean {
  const o = old ?? {};
  const oldStale = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newStale = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (next.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0)
    || newStale < oldStale
    || (next.readyReplicas ?? 0) > (o.readyReplicas ?? 0)
    || (next.availableReplicas ?? 0) > (o.availableReplicas ?? 0);
}

/** Milliseconds until the progress deadline passes, or undefined if none is running. */
export function msUntilDeadline(d: DeploymentObj, conds: readonly DeploymentCondition[], now: number): number | undefined {
  const secs = d.spec?.progressDeadlineSeconds;
  if (secs === undefined || d.spec?.paused) return undefined;
  const p = conds.find((c) => c.type === 'Progressing');
  if (!p || p.status !== 'True' || p.reason === 'NewReplicaSetAvailable' || !p.lastUpdateTime) return undefined;
  return Date.parse(p.lastUpdateTime) + secs * 1000 - now;
}

export function withConditions(inp: ConditionInput): DeploymentCondition[] {
  const { deployment: d, next, newRs, now } = inp;
  let conds = [...(d.status?.conditions ?? [])];
  const want = d.spec?.replicas ?? 1;
  const available = (next.availableReplicas ?? 0) >= want - inp.maxUnavailable;
  conds = setCondition(conds, available
    ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now)
    : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now));

  const rsName = newRs?.metadata?.name ?? '';
  const prog = conds.find((c) => c.type === 'Progressing');
  if (d.spec?.paused) {
    return setCondition(conds, cond('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', now));
  }
  if (prog?.reason === 'DeploymentPaused') {
    conds = setCondition(conds, cond('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', now));
  }
  if (d.spec?.progressDeadlineSeconds === undefined) return conds;
  if (isComplete(d, next)) {
    return setCondition(conds, cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, now));
  }
  if (inp.createdNewRs) {
    return setCondition(conds, cond('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`, now), true);
  }
  const current = conds.find((c) => c.type === 'Progressing');
  // A complete Deployment that loses a pod stays NewReplicaSetAvailable (as in Kubernetes);
  // a spec change (new generation) starts a new progress period.
  const specChanged = (d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0);
  if (current?.reason === 'NewReplicaSetAvailable' && !specChanged) return conds;
  if (madeProgress(d.status, next) || !current || current.reason === 'DeploymentResumed' || current.reason === 'NewReplicaSetAvailable') {
    return setCondition(conds, cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, now), true);
  }
  const left = msUntilDeadline(d, conds, now);
  if (left !== undefined && left <= 0) {
    return setCondition(conds, cond('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, now));
  }
  return conds;
}
