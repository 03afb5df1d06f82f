// The DaemonSet controller: one pod per eligible node (daemonset/plan.ts). Pods are pinned to
// their node by required node affinity on `metadata.name` and carry the Kubernetes daemon
// tolerations, so the scheduler binds them. Revisions: ControllerRevisions are not served,
// so the revision is the template hash, kept in each pod's `controller-revision-hash` label
// (and a pod with another hash is of an old revision). Guarantees: expectations as in the
// ReplicaSet controller (no double creation on a slow cache); node changes wake every
// DaemonSet; status counts as Kubernetes. Does not: keep revision history (`kubectl rollout
// history/undo daemonset` need ControllerRevisions).
import { labelSelectorFromObject } from '../api/selectors.js';
import type { Informer } from '../client/informer.js';
import { objectKey, splitKey } from '../client/keys.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import { applyClaims } from './common/adopt.js';
import { slowStart } from './common/batches.js';
import { classifyClaims } from './common/claim.js';
import type { Controller } from './common/controller.js';
import { jsonEqualish } from './common/equal.js';
import { Expectations } from './common/expectations.js';
import { controllerOf } from './common/owner.js';
import { podFromTemplate } from './common/pod-template.js';
import { msUntilAvailable } from './common/pods.js';
import { templateHash } from './common/template-hash.js';
import type { DaemonSetObj, NodeObj, PodObj } from './common/types.js';
import { aggregate, errorMessage } from './common/writes.js';
import { withDaemonTolerations } from './daemonset/eligibility.js';
import { pinnedAffinity } from './daemonset/pin.js';
import { planDaemonSet, REVISION_HASH_LABEL } from './daemonset/plan.js';
import type { ControllerDeps } from './replicaset.js';
import { ignoreNotFound } from './common/writes.js';

const DAEMONSETS = resource('apps', 'daemonsets');
const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly queue: WorkQueue;
  readonly expectations: Expectations;
  private readonly dsInf: Informer<DaemonSetObj>;
  private readonly podInf: Informer<PodObj>;
  private readonly nodeInf: Informer<NodeObj>;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    this.expectations = new Expectations(deps.clock);
    this.dsInf = deps.informers.for<DaemonSetObj>(DAEMONSETS);
    this.podInf = deps.informers.for<PodObj>(PODS);
    this.nodeInf = deps.informers.for<NodeObj>(NODES);
    this.dsInf.on({
      add: (ds) => this.queue.add(objectKey(ds)),
      update: (_o, ds) => this.queue.add(objectKey(ds)),
      delete: (ds) => {
        this.expectations.delete(objectKey(ds));
        this.queue.add(objectKey(ds));
      },
    });
    this.podInf.on({
      add: (pod) => {
        if (pod.metadata?.deletionTimestamp) return this.podGone(pod);
        const ds = this.owner(pod);
        if (ds) {
          this.expectations.creationObserved(objectKey(ds));
          this.queue.add(objectKey(ds));
        }
      },
      update: (old, pod) => {
        if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) this.podGone(pod);
        const ds = this.owner(pod);
        if (ds) this.queue.add(objectKey(ds));
        else if (!controllerOf(pod)) this.enqueueAll();
      },
      delete: (pod) => this.podGone(pod),
    });
    // Labels, taints and readiness of nodes decide where daemon pods run.
    this.nodeInf.on({ add: () => this.enqueueAll(), update: () => this.enqueueAll(), delete: () => this.enqueueAll() });
  }

  enqueueAll(): void {
    for (const ds of this.dsInf.list()) this.queue.add(objectKey(ds));
  }

  private owner(pod: PodObj): DaemonSetObj | undefined {
    const ref = controllerOf(pod);
    if (ref?.kind !== 'DaemonSet') return undefined;
    const ds = this.dsInf.get(pod.metadata?.namespace, ref.name);
    return ds?.metadata?.uid === ref.uid ? ds : undefined;
  }

  private podGone(pod: PodObj): void {
    const ds = this.owner(pod);
    if (!ds) return;
    this.expectations.deletionObserved(objectKey(ds), objectKey(pod));
    this.queue.add(objectKey(ds));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = this.dsInf.get(namespace, name);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const selector = labelSelectorFromObject(ds.spec?.selector);
    const claim = classifyClaims(ds, selector, this.podInf.list(namespace));
    const adopted = await applyClaims(this.deps.client, ds, { res: DAEMONSETS, apiVersion: 'apps/v1', kind: 'DaemonSet' }, PODS, claim);
    const pods = [...claim.owned, ...adopted];
    const hash = templateHash(ds.spec?.template, ds.status?.collisionCount);
    const now = this.deps.clock.now();
    const plan = planDaemonSet(ds, this.nodeInf.list(), pods, hash, now);
    const errors: unknown[] = [];
    if (this.expectations.satisfied(key) && !ds.metadata?.deletionTimestamp) {
      try {
        await this.apply(ds, key, hash, plan.createOn, plan.delete);
      } catch (e) {
        errors.push(e);
      }
    }
    if (!jsonEqualish({ ...ds.status, ...plan.status }, ds.status)) {
      await ignoreNotFound(this.deps.client.patch(DAEMONSETS, namespace, name, 'merge', { status: plan.status }, { subresource: 'status' }));
    }
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const waits = pods.map((p) => msUntilAvailable(p, minReady, now)).filter((w): w is number => w !== undefined);
    if (waits.length) this.queue.addAfter(key, Math.min(...waits) + 1000);
    aggregate(errors, `sync daemonset ${key}`);
  }

  private podFor(ds: DaemonSetObj, node: string, hash: string): PodObj {
    const pod = podFromTemplate(ds.spec?.template, ds, 'apps/v1', 'DaemonSet');
    pod.metadata!.labels = { ...(pod.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash };
    const spec = pod.spec!;
    spec.affinity = pinnedAffinity(spec.affinity, node);
    spec.tolerations = withDaemonTolerations(spec.tolerations, spec.hostNetwork === true);
    return pod;
  }

  private async apply(ds: DaemonSetObj, key: string, hash: string, createOn: string[], del: PodObj[]): Promise<void> {
    const { client, recorder } = this.deps;
    const ns = ds.metadata?.namespace;
    const errors: unknown[] = [];
    if (createOn.length) {
      this.expectations.expectCreations(key, createOn.length);
      const res = await slowStart(createOn.length, async (i) => {
        try {
          const pod = await client.create<PodObj>(PODS, ns, this.podFor(ds, createOn[i] ?? '', hash));
          recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
        } catch (e) {
          this.expectations.creationFailed(key);
          recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
          throw e;
        }
      }, (n) => {
        for (let i = 0; i < n; i++) this.expectations.creationFailed(key);
      });
      errors.push(...res.errors);
    }
    if (del.length) {
      // Deletions are expected only once creations are done: one expectation record per key.
      if (this.expectations.satisfied(key)) this.expectations.expectDeletions(key, del.map((p) => objectKey(p)));
      await Promise.all(del.map(async (p) => {
        try {
          await ignoreNotFound(client.delete(PODS, ns, p.metadata?.name ?? '', { preconditions: { uid: p.metadata?.uid } }));
          recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name ?? ''}`);
        } catch (e) {
          this.expectations.deletionObserved(key, objectKey(p));
          errors.push(e);
        }
      }));
    }
    aggregate(errors, `sync daemonset ${key}`);
  }
}
