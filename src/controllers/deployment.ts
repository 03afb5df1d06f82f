// The Deployment controller: rolls a Deployment's pod template out through ReplicaSets named
// `<deployment>-<pod-template-hash>`. `reconcile(key)` reads the caches, adopts/releases
// ReplicaSets by selector, finds the new ReplicaSet by template equality (so `rollout undo`
// re-uses the old set, which gets the next revision), then takes one step: proportional
// scaling when spec.replicas changed, else the strategy (RollingUpdate within
// maxSurge/maxUnavailable via deployment/rolling.ts, or Recreate), prunes history beyond
// revisionHistoryLimit and writes status and conditions (deployment/conditions.ts).
// Guarantees: a paused Deployment is scaled but never rolled out; every write derives from
// the cached state, so reconcile can run any number of times. Does not: serve
// `spec.rollbackTo` (gone from apps/v1; kubectl undo patches the template instead).
import type { ReplicaSetSpec } from 'kubernetes-types/apps/v1.js';
import { labelSelectorFromObject } from '../api/selectors.js';
import type { Informer } from '../client/informer.js';
import { objectKey, splitKey } from '../client/keys.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import { isTriremeError } from '../errors.js';
import type { Logger } from '../util/log.js';
import { applyClaims } from './common/adopt.js';
import { classifyClaims } from './common/claim.js';
import type { Controller } from './common/controller.js';
import { jsonEqualish } from './common/equal.js';
import { controllerOf, newControllerRef } from './common/owner.js';
import { creationMs, isPodActive } from './common/pods.js';
import { POD_TEMPLATE_HASH_LABEL, templateHash, templatesEqual } from './common/template-hash.js';
import type { DeploymentObj, PodObj, ReplicaSetObj } from './common/types.js';
import { ignoreNotFound } from './common/writes.js';
import { countsStatus, msUntilDeadline, withConditions } from './deployment/conditions.js';
import {
  DESIRED_REPLICAS, MAX_REPLICAS, REVISION, maxRevision, newReplicaSetAnnotations, setsToPrune,
} from './deployment/revisions.js';
import { newReplicaSetReplicas, proportionalScale, resolveFenceposts, scaleDownOldReplicaSets, type RsCounts } from './deployment/rolling.js';
import type { ControllerDeps } from './replicaset.js';

const DEPLOYMENTS = resource('apps', 'deployments');
const REPLICASETS = resource('apps', 'replicasets');
const PODS = resource('', 'pods');

interface SyncState {
  d: DeploymentObj;
  key: string;
  newRs: ReplicaSetObj | undefined;
  olds: ReplicaSetObj[];
  createdNewRs: boolean;
  log: Logger;
}

function replicasOf(rs: ReplicaSetObj | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

function counts(rs: ReplicaSetObj): RsCounts {
  return { name: rs.metadata?.name ?? '', replicas: replicasOf(rs), available: rs.status?.availableReplicas ?? 0, created: creationMs(rs) };
}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly queue: WorkQueue;
  private readonly dInf: Informer<DeploymentObj>;
  private readonly rsInf: Informer<ReplicaSetObj>;
  private readonly podInf: Informer<PodObj>;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    this.dInf = deps.informers.for<DeploymentObj>(DEPLOYMENTS);
    this.rsInf = deps.informers.for<ReplicaSetObj>(REPLICASETS);
    this.podInf = deps.informers.for<PodObj>(PODS);
    this.dInf.on({
      add: (d) => this.queue.add(objectKey(d)),
      update: (_o, d) => this.queue.add(objectKey(d)),
      delete: (d) => this.queue.add(objectKey(d)),
    });
    this.rsInf.on({
      add: (rs) => this.rsChanged(rs),
      update: (old, rs) => {
        this.rsChanged(old);
        this.rsChanged(rs);
      },
      delete: (rs) => this.rsChanged(rs),
    });
    // Recreate waits for old pods to be gone: their deletion must wake the Deployment.
    this.podInf.on({ delete: (pod) => this.podDeleted(pod) });
  }

  enqueueAll(): void {
    for (const d of this.dInf.list()) this.queue.add(objectKey(d));
  }

  private owningDeployment(obj: ReplicaSetObj): DeploymentObj | undefined {
    const ref = controllerOf(obj);
    if (ref?.kind !== 'Deployment') return undefined;
    const d = this.dInf.get(obj.metadata?.namespace, ref.name);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  private rsChanged(rs: ReplicaSetObj): void {
    const d = this.owningDeployment(rs);
    if (d) return this.queue.add(objectKey(d));
    if (controllerOf(rs)) return;
    for (const cand of this.dInf.list(rs.metadata?.namespace)) {
      try {
        if (classifyClaims(cand, labelSelectorFromObject(cand.spec?.selector), [rs]).adopt.length) this.queue.add(objectKey(cand));
      } catch {
        continue; // an invalid selector selects nothing
      }
    }
  }

  private podDeleted(pod: PodObj): void {
    const ref = controllerOf(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.rsInf.get(pod.metadata?.namespace, ref.name);
    const d = rs && this.owningDeployment(rs);
    if (d?.spec?.strategy?.type === 'Recreate') this.queue.add(objectKey(d));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dInf.get(namespace, name);
    if (!cached) return;
    const d = cached;
    const log = this.deps.logger.child({ deployment: key });
    const selector = labelSelectorFromObject(d.spec?.selector);
    if (selector.requirements.length === 0) {
      // Kubernetes refuses to act on a selector that selects everything.
      this.deps.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const claim = classifyClaims(d, selector, this.rsInf.list(namespace));
    const adopted = await applyClaims(this.deps.client, d, { res: DEPLOYMENTS, apiVersion: 'apps/v1', kind: 'Deployment' }, REPLICASETS, claim);
    const owned = [...claim.owned, ...adopted].sort((a, b) => creationMs(a) - creationMs(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    // The oldest set whose template equals the Deployment's is the new one (Kubernetes' FindNewReplicaSet).
    const newRs = owned.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
    const st: SyncState = { d, key, newRs, olds: owned.filter((rs) => rs !== newRs), createdNewRs: false, log };

    if (d.metadata?.deletionTimestamp) return this.writeStatus(st);
    if (d.spec?.paused || this.isScalingEvent(st)) {
      await this.syncRevision(st);
      await this.scale(st);
      if (d.spec?.paused) await this.cleanup(st);
      return this.writeStatus(st);
    }
    if (d.spec?.strategy?.type === 'Recreate') await this.recreate(st);
    else await this.rolling(st);
    return this.writeStatus(st);
  }

  private fenceposts(d: DeploymentObj) {
    const replicas = d.spec?.replicas ?? 1;
    if (d.spec?.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
    const ru = d.spec?.strategy?.rollingUpdate;
    return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas);
  }

  private isScalingEvent(st: SyncState): boolean {
    const want = String(st.d.spec?.replicas ?? 1);
    return [st.newRs, ...st.olds].some((rs) => {
      if (!rs || replicasOf(rs) === 0) return false;
      const desired = rs.metadata?.annotations?.[DESIRED_REPLICAS];
      return desired !== undefined && desired !== want;
    });
  }

  private sizes(d: DeploymentObj) {
    const replicas = d.spec?.replicas ?? 1;
    return { desired: replicas, max: replicas + this.fenceposts(d).maxSurge };
  }

  /** Writes a ReplicaSet with new replicas and/or annotations (CAS on the cached version). */
  private async writeRs(st: SyncState, rs: ReplicaSetObj, replicas: number, annotations?: Record<string, string>): Promise<ReplicaSetObj> {
    const next = structuredClone(rs);
    next.spec = { ...(next.spec as ReplicaSetSpec), replicas };
    const ann = annotations ?? { ...(rs.metadata?.annotations ?? {}) };
    const sizes = this.sizes(st.d);
    ann[DESIRED_REPLICAS] = String(sizes.desired);
    ann[MAX_REPLICAS] = String(sizes.max);
    next.metadata = { ...next.metadata, annotations: ann };
    if (st.d.spec?.minReadySeconds !== undefined && rs === st.newRs) next.spec.minReadySeconds = st.d.spec.minReadySeconds;
    if (jsonEqualish(next, rs)) return rs;
    const out = await this.deps.client.update<ReplicaSetObj>(REPLICASETS, rs.metadata?.namespace, next);
    if (replicasOf(rs) !== replicas) {
      const verb = replicas > replicasOf(rs) ? 'up' : 'down';
      this.deps.recorder.event(st.d, 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata?.name ?? ''} from ${replicasOf(rs)} to ${replicas}`);
    }
    if (rs === st.newRs) st.newRs = out;
    else st.olds = st.olds.map((o) => (o === rs ? out : o));
    return out;
  }

  /** Brings the existing new set's revision and annotations up to date (rollout undo lands here). */
  private async syncRevision(st: SyncState): Promise<void> {
    if (!st.newRs) return;
    const ann = newReplicaSetAnnotations(st.d.metadata?.annotations, st.newRs.metadata?.annotations, maxRevision(st.olds), this.sizes(st.d));
    await this.writeRs(st, st.newRs, replicasOf(st.newRs), ann);
    await this.syncDeploymentRevision(st);
  }

  private async syncDeploymentRevision(st: SyncState): Promise<void> {
    const rev = st.newRs?.metadata?.annotations?.[REVISION];
    if (!rev || st.d.metadata?.annotations?.[REVISION] === rev) return;
    const out = await ignoreNotFound(this.deps.client.patch<DeploymentObj>(DEPLOYMENTS, st.d.metadata?.namespace, st.d.metadata?.name ?? '', 'merge', { metadata: { annotations: { [REVISION]: rev } } }));
    if (out) st.d = { ...st.d, metadata: { ...st.d.metadata, annotations: out.metadata?.annotations } };
  }

  /** Creates the new ReplicaSet with `replicas`, or handles a name collision. */
  private async createNewRs(st: SyncState, replicas: number): Promise<void> {
    const d = st.d;
    const collisionCount = d.status?.collisionCount ?? 0;
    const hash = templateHash(d.spec?.template, collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${d.metadata?.name ?? ''}-${hash}`;
    const rs: ReplicaSetObj = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name, namespace: d.metadata?.namespace,
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: newReplicaSetAnnotations(d.metadata?.annotations, {}, maxRevision(st.olds), this.sizes(d)),
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    try {
      st.newRs = await this.deps.client.create<ReplicaSetObj>(REPLICASETS, d.metadata?.namespace, rs);
      st.createdNewRs = true;
      this.deps.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    } catch (e) {
      if (!isTriremeError(e, 'AlreadyExists')) throw e;
      const existing = await this.deps.client.get<ReplicaSetObj>(REPLICASETS, d.metadata?.namespace, name);
      if (controllerOf(existing)?.uid === d.metadata?.uid && templatesEqual(existing.spec?.template, d.spec?.template)) {
        st.newRs = existing; // our cache was behind
      } else {
        // A different set holds the name: bump collisionCount so the next hash differs.
        await this.deps.client.patch(DEPLOYMENTS, d.metadata?.namespace, d.metadata?.name ?? '', 'merge', { status: { collisionCount: collisionCount + 1 } }, { subresource: 'status' });
        throw new Error(`replica set ${name} exists with a different template; collisionCount is now ${collisionCount + 1}`);
      }
    }
    await this.syncDeploymentRevision(st);
  }

  private async rolling(st: SyncState): Promise<void> {
    const d = st.d;
    const replicas = d.spec?.replicas ?? 1;
    const { maxSurge, maxUnavailable } = this.fenceposts(d);
    const allReplicas = () => [st.newRs, ...st.olds].reduce((n, rs) => n + replicasOf(rs), 0);
    if (!st.newRs) {
      await this.createNewRs(st, newReplicaSetReplicas(replicas, maxSurge, allReplicas(), 0));
      return;
    }
    await this.syncRevision(st);
    // Step 1: grow (or trim) the new set.
    const cur = replicasOf(st.newRs);
    const target = cur > replicas ? replicas : newReplicaSetReplicas(replicas, maxSurge, allReplicas(), cur);
    if (target !== cur) {
      await this.writeRs(st, st.newRs, target);
      return;
    }
    // Step 2: shrink the old sets as far as availability allows.
    const plan = scaleDownOldReplicaSets(replicas, maxUnavailable, counts(st.newRs), st.olds.map(counts));
    if (plan.size > 0) {
      for (const rs of [...st.olds]) {
        const to = plan.get(rs.metadata?.name ?? '');
        if (to !== undefined) await this.writeRs(st, rs, to);
      }
      return;
    }
    if (this.complete(st)) await this.cleanup(st);
  }

  private complete(st: SyncState): boolean {
    const replicas = st.d.spec?.replicas ?? 1;
    return replicasOf(st.newRs) === replicas && (st.newRs?.status?.availableReplicas ?? 0) >= replicas
      && st.olds.every((rs) => replicasOf(rs) === 0);
  }

  private async recreate(st: SyncState): Promise<void> {
    const replicas = st.d.spec?.replicas ?? 1;
    let scaled = false;
    for (const rs of [...st.olds]) {
      if (replicasOf(rs) > 0) {
        await this.writeRs(st, rs, 0);
        scaled = true;
      }
    }
    if (scaled) return;
    const oldUids = new Set(st.olds.map((rs) => rs.metadata?.uid));
    // Old pods must be gone (not just marked for deletion) before new ones start.
    const oldPodsLeft = this.podInf.list(st.d.metadata?.namespace)
      .some((p) => oldUids.has(controllerOf(p)?.uid) && (isPodActive(p) || Boolean(p.metadata?.deletionTimestamp)));
    if (oldPodsLeft) return;
    if (!st.newRs) return this.createNewRs(st, replicas);
    await this.syncRevision(st);
    if (replicasOf(st.newRs) !== replicas) await this.writeRs(st, st.newRs, replicas);
    else if (this.complete(st)) await this.cleanup(st);
  }

  /** Proportional scaling (also the only sync of a paused Deployment). */
  private async scale(st: SyncState): Promise<void> {
    const d = st.d;
    const replicas = d.spec?.replicas ?? 1;
    const active = [st.newRs, ...st.olds].filter((rs): rs is ReplicaSetObj => rs !== undefined && replicasOf(rs) > 0);
    if (active.length <= 1) {
      const only = active[0] ?? st.newRs;
      if (only && (replicasOf(only) !== replicas || this.annotationsStale(st, only))) await this.writeRs(st, only, replicas);
      return;
    }
    if (st.newRs && replicasOf(st.newRs) === replicas && (st.newRs.status?.availableReplicas ?? 0) >= replicas) {
      for (const rs of st.olds) if (replicasOf(rs) > 0) await this.writeRs(st, rs, 0);
      return;
    }
    const allowed = replicas + this.fenceposts(d).maxSurge;
    const plan = proportionalScale(allowed, active.map((rs) => ({
      name: rs.metadata?.name ?? '', replicas: replicasOf(rs), created: creationMs(rs),
      maxReplicasAnnotation: Number(rs.metadata?.annotations?.[MAX_REPLICAS] ?? 0) || undefined,
    })));
    // Shrink first, so the total never overshoots while the writes land.
    const order = [...active].sort((a, b) => ((plan.get(a.metadata?.name ?? '') ?? 0) - replicasOf(a)) - ((plan.get(b.metadata?.name ?? '') ?? 0) - replicasOf(b)));
    for (const rs of order) await this.writeRs(st, rs, plan.get(rs.metadata?.name ?? '') ?? replicasOf(rs));
  }

  private annotationsStale(st: SyncState, rs: ReplicaSetObj): boolean {
    const s = this.sizes(st.d);
    const a = rs.metadata?.annotations ?? {};
    return a[DESIRED_REPLICAS] !== String(s.desired) || a[MAX_REPLICAS] !== String(s.max);
  }

  /** Deletes idle old sets beyond revisionHistoryLimit. */
  private async cleanup(st: SyncState): Promise<void> {
    const limit = st.d.spec?.revisionHistoryLimit ?? 10;
    for (const rs of setsToPrune(st.olds, limit)) {
      st.log.debug({ replicaset: rs.metadata?.name }, 'pruning old replica set');
      await ignoreNotFound(this.deps.client.delete(REPLICASETS, rs.metadata?.namespace, rs.metadata?.name ?? '', { preconditions: { uid: rs.metadata?.uid } }));
    }
  }

  private async writeStatus(st: SyncState): Promise<void> {
    const d = st.d;
    const all = [st.newRs, ...st.olds].filter((rs): rs is ReplicaSetObj => rs !== undefined);
    const now = this.deps.clock.now();
    const next = countsStatus(d, all, st.newRs);
    next.conditions = withConditions({ deployment: d, next, newRs: st.newRs, maxUnavailable: this.fenceposts(d).maxUnavailable, createdNewRs: st.createdNewRs, now });
    const wait = msUntilDeadline(d, next.conditions, now);
    if (wait !== undefined && wait > 0) this.queue.addAfter(st.key, wait + 1000);
    const { conditions: _c, ...nextCounts } = next;
    const { conditions: _o, ...oldCounts } = d.status ?? {};
    if (jsonEqualish(nextCounts, oldCounts) && jsonEqualish(next.conditions, d.status?.conditions ?? [])) return;
    await ignoreNotFound(this.deps.client.patch(DEPLOYMENTS, d.metadata?.namespace, d.metadata?.name ?? '', 'merge', { status: next }, { subresource: 'status' }));
  }
}
