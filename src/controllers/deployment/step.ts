// The Deployment controller's step planner (pure): given a Deployment, its owned ReplicaSets
// (split into the new one and the old ones) and, for Recreate, its namespace's pods, which one
// step a sync takes. Kubernetes' order: a Deployment being deleted only gets its status; a
// paused one, or one whose spec.replicas changed mid-rollout (a set's `desired-replicas`
// annotation differs), is scaled proportionally (deployment/rolling.ts); otherwise the
// strategy moves: RollingUpdate grows the new set within maxSurge, else shrinks old sets
// within maxUnavailable; Recreate scales every old set to 0, waits until their pods are gone
// (not merely terminating), then sizes the new set. A finished rollout (and a paused
// Deployment) prunes idle old sets beyond revisionHistoryLimit.
// Guarantees: the plan depends only on its inputs and never modifies them; each step either
// creates the new set, or writes spec.replicas of named sets (in the listed order: shrinks
// before growths), or nothing; `syncRevision` asks that the existing new set's revision
// annotations be brought up to date first. Does not: build, send or retry the writes (the
// controller does, and turns a name collision into a collisionCount bump); compute status.
import { creationMs, isPodActive } from '../common/pods.js';
import { controllerOf } from '../common/owner.js';
import { templatesEqual } from '../common/template-hash.js';
import type { DeploymentObj, PodObj, ReplicaSetObj } from '../common/types.js';
import { DESIRED_REPLICAS, MAX_REPLICAS, setsToPrune } from './revisions.js';
import { newReplicaSetReplicas, proportionalScale, resolveFenceposts, scaleDownOldReplicaSets, type Fenceposts, type RsCounts } from './rolling.js';

/** One spec.replicas write. */
export interface ReplicasWrite {
  name: string;
  replicas: number;
}

export interface DeploymentStep {
  /** Which rule chose the step. */
  mode: 'deleting' | 'paused' | 'scaling' | 'rolling' | 'recreate';
  /** First bring the existing new set's revision annotations (and the Deployment's) up to date. */
  syncRevision: boolean;
  /** Create the new ReplicaSet with this many replicas. */
  create?: { replicas: number };
  /** spec.replicas writes, in this order (each also refreshes the set's size annotations). */
  scale: ReplicasWrite[];
  /** Then delete these idle old sets (beyond revisionHistoryLimit). */
  prune: string[];
  /** Why a step that writes nothing waits (for logs and tests). */
  waiting?: 'oldPodsRunning' | 'newPodsAvailable' | 'oldPodsAvailable' | 'nothingToDo';
}

export interface StepInput {
  deployment: DeploymentObj;
  /** The set whose template equals the Deployment's, if any. */
  newRs: ReplicaSetObj | undefined;
  /** The other owned sets, oldest first. */
  olds: readonly ReplicaSetObj[];
  /** Pods of the Deployment's namespace (only Recreate looks at them). */
  pods: readonly PodObj[];
}

export function replicasOf(rs: ReplicaSetObj | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

function nameOf(rs: ReplicaSetObj): string {
  return rs.metadata?.name ?? '';
}

/** Owned sets in creation order, split: the oldest whose template equals the Deployment's is the new one (FindNewReplicaSet). */
export function splitReplicaSets(d: DeploymentObj, owned: readonly ReplicaSetObj[]): { newRs: ReplicaSetObj | undefined; olds: ReplicaSetObj[] } {
  const sorted = [...owned].sort((a, b) => creationMs(a) - creationMs(b) || nameOf(a).localeCompare(nameOf(b)));
  const newRs = sorted.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
  return { newRs, olds: sorted.filter((rs) => rs !== newRs) };
}

export function fenceposts(d: DeploymentObj): Fenceposts {
  const replicas = d.spec?.replicas ?? 1;
  if (d.spec?.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas);
}

/** What the `desired-replicas` and `max-replicas` annotations of the Deployment's sets should say. */
export function deploymentSizes(d: DeploymentObj): { desired: number; max: number } {
  const replicas = d.spec?.replicas ?? 1;
  return { desired: replicas, max: replicas + fenceposts(d).maxSurge };
}

/** spec.replicas changed since some active set was sized (Kubernetes' isScalingEvent). */
export function isScalingEvent(d: DeploymentObj, sets: readonly (ReplicaSetObj | undefined)[]): boolean {
  const want = String(d.spec?.replicas ?? 1);
  return sets.some((rs) => {
    if (!rs || replicasOf(rs) === 0) return false;
    const desired = rs.metadata?.annotations?.[DESIRED_REPLICAS];
    return desired !== undefined && desired !== want;
  });
}

function counts(rs: ReplicaSetObj): RsCounts {
  return { name: nameOf(rs), replicas: replicasOf(rs), available: rs.status?.availableReplicas ?? 0, created: creationMs(rs) };
}

function annotationsStale(d: DeploymentObj, rs: ReplicaSetObj): boolean {
  const s = deploymentSizes(d);
  const a = rs.metadata?.annotations ?? {};
  return a[DESIRED_REPLICAS] !== String(s.desired) || a[MAX_REPLICAS] !== String(s.max);
}

function complete(d: DeploymentObj, newRs: ReplicaSetObj | undefined, olds: readonly ReplicaSetObj[]): boolean {
  const replicas = d.spec?.replicas ?? 1;
  return replicasOf(newRs) === replicas && (newRs?.status?.availableReplicas ?? 0) >= replicas && olds.every((rs) => replicasOf(rs) === 0);
}

function prune(d: DeploymentObj, olds: readonly ReplicaSetObj[]): string[] {
  return setsToPrune(olds, d.spec?.revisionHistoryLimit ?? 10).map(nameOf);
}

export function planStep(input: StepInput): DeploymentStep {
  const d = input.deployment;
  if (d.metadata?.deletionTimestamp) return { mode: 'deleting', syncRevision: false, scale: [], prune: [] };
  const paused = Boolean(d.spec?.paused);
  if (paused || isScalingEvent(d, [input.newRs, ...input.olds])) {
    return { ...planScale(input), mode: paused ? 'paused' : 'scaling', syncRevision: input.newRs !== undefined, prune: paused ? prune(d, input.olds) : [] };
  }
  return d.spec?.strategy?.type === 'Recreate' ? planRecreate(input) : planRolling(input);
}

/** Proportional scaling (also the only step of a paused Deployment). */
function planScale({ deployment: d, newRs, olds }: StepInput): Pick<DeploymentStep, 'scale' | 'waiting'> {
  const replicas = d.spec?.replicas ?? 1;
  const active = [newRs, ...olds].filter((rs): rs is ReplicaSetObj => rs !== undefined && replicasOf(rs) > 0);
  if (active.length <= 1) {
    const only = active[0] ?? newRs;
    // The new set's annotations are refreshed by syncRevision; an old one's by this write.
    if (only && (replicasOf(only) !== replicas || (only !== newRs && annotationsStale(d, only)))) return { scale: [{ name: nameOf(only), replicas }] };
    return { scale: [], waiting: 'nothingToDo' };
  }
  if (newRs && replicasOf(newRs) === replicas && (newRs.status?.availableReplicas ?? 0) >= replicas) {
    return { scale: olds.filter((rs) => replicasOf(rs) > 0).map((rs) => ({ name: nameOf(rs), replicas: 0 })) };
  }
  const allowed = replicas + fenceposts(d).maxSurge;
  const plan = proportionalScale(allowed, active.map((rs) => ({
    name: nameOf(rs), replicas: replicasOf(rs), created: creationMs(rs),
    maxReplicasAnnotation: Number(rs.metadata?.annotations?.[MAX_REPLICAS] ?? 0) || undefined,
  })));
  const target = (rs: ReplicaSetObj) => plan.get(nameOf(rs)) ?? replicasOf(rs);
  // Shrink first, so the total never overshoots while the writes land.
  const order = [...active].sort((a, b) => (target(a) - replicasOf(a)) - (target(b) - replicasOf(b)));
  return { scale: order.map((rs) => ({ name: nameOf(rs), replicas: target(rs) })) };
}

function planRolling({ deployment: d, newRs, olds }: StepInput): DeploymentStep {
  const replicas = d.spec?.replicas ?? 1;
  const { maxSurge, maxUnavailable } = fenceposts(d);
  const all = [newRs, ...olds].reduce((n, rs) => n + replicasOf(rs), 0);
  const base = { mode: 'rolling' as const, scale: [], prune: [] };
  if (!newRs) return { ...base, syncRevision: false, create: { replicas: newReplicaSetReplicas(replicas, maxSurge, all, 0) } };
  // 1. Grow (or trim) the new set.
  const cur = replicasOf(newRs);
  const target = cur > replicas ? replicas : newReplicaSetReplicas(replicas, maxSurge, all, cur);
  if (target !== cur) return { ...base, syncRevision: true, scale: [{ name: nameOf(newRs), replicas: target }] };
  // 2. Shrink the old sets as far as availability allows.
  const down = scaleDownOldReplicaSets(replicas, maxUnavailable, counts(newRs), olds.map(counts));
  if (down.size > 0) {
    return { ...base, syncRevision: true, scale: olds.filter((rs) => down.has(nameOf(rs))).map((rs) => ({ name: nameOf(rs), replicas: down.get(nameOf(rs))! })) };
  }
  if (complete(d, newRs, olds)) return { ...base, syncRevision: true, prune: prune(d, olds) };
  return { ...base, syncRevision: true, waiting: olds.some((rs) => replicasOf(rs) > 0) ? 'oldPodsAvailable' : 'newPodsAvailable' };
}

function planRecreate({ deployment: d, newRs, olds, pods }: StepInput): DeploymentStep {
  const replicas = d.spec?.replicas ?? 1;
  const base = { mode: 'recreate' as const, scale: [], prune: [] };
  const scaleDown = olds.filter((rs) => replicasOf(rs) > 0).map((rs) => ({ name: nameOf(rs), replicas: 0 }));
  if (scaleDown.length > 0) return { ...base, syncRevision: false, scale: scaleDown };
  const oldUids = new Set(olds.map((rs) => rs.metadata?.uid));
  // Old pods must be gone (not just marked for deletion) before new ones start.
  const oldPodsLeft = pods.some((p) => oldUids.has(controllerOf(p)?.uid) && (isPodActive(p) || Boolean(p.metadata?.deletionTimestamp)));
  if (oldPodsLeft) return { ...base, syncRevision: false, waiting: 'oldPodsRunning' };
  if (!newRs) return { ...base, syncRevision: false, create: { replicas } };
  if (replicasOf(newRs) !== replicas) return { ...base, syncRevision: true, scale: [{ name: nameOf(newRs), replicas }] };
  if (complete(d, newRs, olds)) return { ...base, syncRevision: true, prune: prune(d, olds) };
  return { ...base, syncRevision: true, waiting: 'newPodsAvailable' };
}
