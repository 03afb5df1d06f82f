// The Deployment controller: rolls a Deployment's pod template out through ReplicaSets named
// `<deployment>-<pod-template-hash>`. `reconcile(key)` reads the caches, adopts/releases
// ReplicaSets by selector, asks the pure step planner (deployment/step.ts) for one step —
// proportional scaling, a RollingUpdate or Recreate move, pruning of history — carries out
// its writes in order, and writes status and conditions (deployment/conditions.ts).
// Guarantees: every decision comes from the planner over the cached state, so reconcile can
// run any number of times; the only choices made here are how to react to a failed write (a
// name collision bumps collisionCount). Does not: serve `spec.rollbackTo` (gone from apps/v1;
// kubectl undo patches the template instead).
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
import { POD_TEMPLATE_HASH_LABEL, templateHash, templatesEqual } from './common/template-hash.js';
import type { DeploymentObj, PodObj, ReplicaSetObj } from './common/types.js';
import { ignoreNotFound } from './common/writes.js';
import { countsStatus, msUntilDeadline, withConditions } from './deployment/conditions.js';
import { DESIRED_REPLICAS, MAX_REPLICAS, REVISION, maxRevision, newReplicaSetAnnotations } from './deployment/revisions.js';
import { deploymentSizes, fenceposts, planStep, replicasOf, splitReplicaSets, type DeploymentStep } from './deployment/step.js';
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
    const { newRs, olds } = splitReplicaSets(d, [...claim.owned, ...adopted]);
    const pods = d.spec?.strategy?.type === 'Recreate' ? this.podInf.list(namespace) : [];
    const step = planStep({ deployment: d, newRs, olds, pods });
    log.debug({ step }, 'deployment step');
    const st: SyncState = { d, key, newRs, olds, createdNewRs: false, log };
    await this.execute(st, step);
    return this.writeStatus(st);
  }

  /** Carries out a planned step: the writes, in the planned order. */
  private async execute(st: SyncState, step: DeploymentStep): Promise<void> {
    if (step.syncRevision) await this.syncRevision(st);
    if (step.create) await this.createNewRs(st, step.create.replicas);
    for (const w of step.scale) {
      const rs = [st.newRs, ...st.olds].find((r) => r?.metadata?.name === w.name);
      if (rs) await this.writeRs(st, rs, w.replicas);
    }
    if (step.prune.length > 0) await this.prune(st, step.prune);
  }

  /** Writes a ReplicaSet with new replicas and/or annotations (CAS on the cached version). */
  private async writeRs(st: SyncState, rs: ReplicaSetObj, replicas: number, annotations?: Record<string, string>): Promise<ReplicaSetObj> {
    const next = structuredClone(rs);
    next.spec = { ...(next.spec as ReplicaSetSpec), replicas };
    const ann = annotations ?? { ...(rs.metadata?.annotations ?? {}) };
    const sizes = deploymentSizes(st.d);
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
    const ann = newReplicaSetAnnotations(st.d.metadata?.annotations, st.newRs.metadata?.annotations, maxRevision(st.olds), deploymentSizes(st.d));
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
        annotations: newReplicaSetAnnotations(d.metadata?.annotations, {}, maxRevision(st.olds), deploymentSizes(d)),
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

  /** Deletes the named idle old sets (beyond revisionHistoryLimit). */
  private async prune(st: SyncState, names: readonly string[]): Promise<void> {
    for (const rs of st.olds.filter((o) => names.includes(o.metadata?.name ?? ''))) {
      st.log.debug({ replicaset: rs.metadata?.name }, 'pruning old replica set');
      await ignoreNotFound(this.deps.client.delete(REPLICASETS, rs.metadata?.namespace, rs.metadata?.name ?? '', { preconditions: { uid: rs.metadata?.uid } }));
    }
  }

  private async writeStatus(st: SyncState): Promise<void> {
    const d = st.d;
    const all = [st.newRs, ...st.olds].filter((rs): rs is ReplicaSetObj => rs !== undefined);
    const now = this.deps.clock.now();
    const next = countsStatus(d, all, st.newRs);
    next.conditions = withConditions({ deployment: d, next, newRs: st.newRs, maxUnavailable: fenceposts(d).maxUnavailable, createdNewRs: st.createdNewRs, now });
    const wait = msUntilDeadline(d, next.conditions, now);
    if (wait !== undefined && wait > 0) this.queue.addAfter(st.key, wait + 1000);
    const { conditions: _c, ...nextCounts } = next;
    const { conditions: _o, ...oldCounts } = d.status ?? {};
    if (jsonEqualish(nextCounts, oldCounts) && jsonEqualish(next.conditions, d.status?.conditions ?? [])) return;
    await ignoreNotFound(this.deps.client.patch(DEPLOYMENTS, d.metadata?.namespace, d.metadata?.name ?? '', 'merge', { status: next }, { subresource: 'status' }));
  }
}
