// The ReplicaSet controller: keeps `spec.replicas` active pods for each ReplicaSet.
// Handlers only queue keys; `reconcile(key)` reads the informer caches, adopts matching
// orphans and releases pods that stopped matching, creates or deletes the difference
// (replicaset/diff.ts) and writes the status. Guarantees: expectations — after asking for
// creations or deletions it does not act on that ReplicaSet again until the informer has seen
// them (or 5 minutes pass), so a slow cache never causes over-creation; creations go in
// slow-start batches; reconcile is idempotent. Does not: wait for pods to stop (a deleted pod
// on a node is gone for the count as soon as it has a deletionTimestamp, as in Kubernetes).
import { labelSelectorFromObject } from '../api/selectors.js';
import type { ApiClient } from '../client/api-client.js';
import type { EventRecorder } from '../client/events.js';
import { objectKey, splitKey } from '../client/keys.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { applyClaims } from './common/adopt.js';
import { slowStart } from './common/batches.js';
import { classifyClaims } from './common/claim.js';
import type { Controller } from './common/controller.js';
import { Expectations } from './common/expectations.js';
import type { SharedInformers } from './common/informers.js';
import { controllerOf } from './common/owner.js';
import { podFromTemplate } from './common/pod-template.js';
import { isPodActive, msUntilAvailable } from './common/pods.js';
import type { PodObj, ReplicaSetObj } from './common/types.js';
import { aggregate, errorMessage, ignoreNotFound } from './common/writes.js';
import { replicaDiff } from './replicaset/diff.js';
import { replicaSetStatus } from './replicaset/status.js';
import { jsonEqualish } from './common/equal.js';
import type { Informer } from '../client/informer.js';

const PODS = resource('', 'pods');
const REPLICASETS = resource('apps', 'replicasets');

export interface ControllerDeps {
  client: ApiClient;
  informers: SharedInformers;
  clock: Clock;
  logger: Logger;
  recorder: EventRecorder;
}

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  readonly queue: WorkQueue;
  readonly expectations: Expectations;
  private readonly rsInf: Informer<ReplicaSetObj>;
  private readonly podInf: Informer<PodObj>;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    this.expectations = new Expectations(deps.clock);
    this.rsInf = deps.informers.for<ReplicaSetObj>(REPLICASETS);
    this.podInf = deps.informers.for<PodObj>(PODS);
    this.rsInf.on({
      add: (rs) => this.queue.add(objectKey(rs)),
      update: (_o, rs) => this.queue.add(objectKey(rs)),
      delete: (rs) => {
        this.expectations.delete(objectKey(rs));
        this.queue.add(objectKey(rs));
      },
    });
    this.podInf.on({
      add: (pod) => this.podAdded(pod),
      update: (old, pod) => this.podUpdated(old, pod),
      delete: (pod) => this.podDeleted(pod),
    });
  }

  enqueueAll(): void {
    for (const rs of this.rsInf.list()) this.queue.add(objectKey(rs));
  }

  /** The ReplicaSet controlling a pod, if it exists in the cache with the referenced uid. */
  private owningSet(pod: PodObj): ReplicaSetObj | undefined {
    const ref = controllerOf(pod);
    if (ref?.kind !== 'ReplicaSet') return undefined;
    const rs = this.rsInf.get(pod.metadata?.namespace, ref.name);
    return rs?.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** Orphans wake every ReplicaSet whose selector matches, so one can adopt them. */
  private enqueueMatching(pod: PodObj): void {
    for (const rs of this.rsInf.list(pod.metadata?.namespace)) {
      try {
        const sel = labelSelectorFromObject(rs.spec?.selector);
        if (classifyClaims(rs, sel, [pod]).adopt.length) this.queue.add(objectKey(rs));
      } catch {
        // An invalid selector selects nothing; the API server normally refuses it anyway.
        continue;
      }
    }
  }

  private podAdded(pod: PodObj): void {
    if (pod.metadata?.deletionTimestamp) return this.podDeleted(pod);
    const rs = this.owningSet(pod);
    if (rs) {
      this.expectations.creationObserved(objectKey(rs));
      this.queue.add(objectKey(rs));
    } else if (!controllerOf(pod)) {
      this.enqueueMatching(pod);
    }
  }

  private podUpdated(old: PodObj, pod: PodObj): void {
    if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
      // A graceful deletion counts as observed when it starts (Kubernetes does the same).
      this.podDeleted(pod);
    }
    const oldRs = this.owningSet(old);
    const rs = this.owningSet(pod);
    if (oldRs && oldRs !== rs) this.queue.add(objectKey(oldRs));
    if (rs) {
      this.queue.add(objectKey(rs));
      const minReady = rs.spec?.minReadySeconds ?? 0;
      const wait = msUntilAvailable(pod, minReady, this.deps.clock.now());
      if (wait !== undefined) this.queue.addAfter(objectKey(rs), wait + 1000);
    } else if (!controllerOf(pod)) {
      this.enqueueMatching(pod);
    }
  }

  private podDeleted(pod: PodObj): void {
    const rs = this.owningSet(pod);
    if (!rs) return;
    this.expectations.deletionObserved(objectKey(rs), objectKey(pod));
    this.queue.add(objectKey(rs));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = this.rsInf.get(namespace, name);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const log = this.deps.logger.child({ replicaset: key });
    const selector = labelSelectorFromObject(rs.spec?.selector);
    const claim = classifyClaims(rs, selector, this.podInf.list(namespace));
    const adopted = await applyClaims(this.deps.client, rs, { res: REPLICASETS, apiVersion: 'apps/v1', kind: 'ReplicaSet' }, PODS, claim);
    const active = [...claim.owned, ...adopted].filter(isPodActive);

    const errors: unknown[] = [];
    if (this.expectations.satisfied(key) && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manage(rs, key, active, log);
      } catch (e) {
        errors.push(e);
      }
    }

    const now = this.deps.clock.now();
    const status = replicaSetStatus(rs, active, now);
    if (!jsonEqualish(status, rs.status)) {
      await ignoreNotFound(this.deps.client.patch(REPLICASETS, namespace, name, 'merge', { status }, { subresource: 'status' }));
    }
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const waits = active.map((p) => msUntilAvailable(p, minReady, now)).filter((w): w is number => w !== undefined);
    if (waits.length) this.queue.addAfter(key, Math.min(...waits) + 1000);
    aggregate(errors, `sync replicaset ${key}`);
  }

  private async manage(rs: ReplicaSetObj, key: string, active: PodObj[], log: Logger): Promise<void> {
    const desired = rs.spec?.replicas ?? 1;
    const diff = replicaDiff(active, desired);
    const { client, recorder } = this.deps;
    const ns = rs.metadata?.namespace;
    if (diff.action === 'create') {
      this.expectations.expectCreations(key, diff.count);
      log.debug({ count: diff.count }, 'creating pods');
      const res = await slowStart(diff.count, async () => {
        try {
          const pod = await client.create<PodObj>(PODS, ns, podFromTemplate(rs.spec?.template, rs, 'apps/v1', 'ReplicaSet'));
          recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
        } catch (e) {
          this.expectations.creationFailed(key);
          recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
          throw e;
        }
      }, (n) => {
        for (let i = 0; i < n; i++) this.expectations.creationFailed(key);
      });
      aggregate(res.errors, `create pods for ${key}`);
    } else if (diff.action === 'delete') {
      this.expectations.expectDeletions(key, diff.pods.map((p) => objectKey(p)));
      log.debug({ count: diff.pods.length }, 'deleting pods');
      const errors: unknown[] = [];
      await Promise.all(diff.pods.map(async (p) => {
        const podName = p.metadata?.name ?? '';
        try {
          await client.delete(PODS, ns, podName, { preconditions: { uid: p.metadata?.uid } });
          recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${podName}`);
        } catch (e) {
          // Never observed if the delete failed (NotFound: already gone, observed via the informer).
          this.expectations.deletionObserved(key, objectKey(p));
          if ((e as { code?: string }).code !== 'NotFound') {
            recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
            errors.push(e);
          }
        }
      }));
      aggregate(errors, `delete pods for ${key}`);
    }
  }
}
