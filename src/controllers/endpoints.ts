// The Endpoints controller: keeps `<ns>/<svc>` Endpoints of every Service with a selector equal
// to what endpoints/plan.ts computes from the pods it selects (their allocated host ports, the
// node's IP), as Kubernetes' endpoint controller does.
// Guarantees: one key per Service, woken by the Service, by any pod whose labels (old or new)
// it selects, and by its Endpoints; writes are a create or a PUT of the cached object
// (compare-and-swap on resourceVersion, a lost race retries); when the Service is gone, an
// Endpoints object this controller made (label `endpoints.kubernetes.io/managed-by:
// endpoint-controller`) is deleted with a uid precondition. Endpoints of Services without a
// selector, and Endpoints without a Service that this controller did not make, are never
// touched. Does not: set ownerReferences (Kubernetes' Endpoints have none), batch updates.
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import type { Informer } from '../client/informer.js';
import { objectKey, splitKey } from '../client/keys.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller } from './common/controller.js';
import type { PodObj } from './common/types.js';
import { ignoreNotFound } from './common/writes.js';
import { selects, serviceSelector } from './endpoints/pod-ports.js';
import { isControllerManaged, planEndpoints } from './endpoints/plan.js';
import { TriggerTimes } from './endpoints/trigger-times.js';
import type { ControllerDeps } from './replicaset.js';

export const SERVICES = resource('', 'services');
export const ENDPOINTS = resource('', 'endpoints');
export const PODS = resource('', 'pods');

export type ServiceObj = Service & KubeObject;
export type EndpointsObj = Endpoints & KubeObject;

/** Keys of the Services in the pod's namespace that select it (by its old or new labels). */
export function servicesSelecting(services: readonly ServiceObj[], ...pods: (PodObj | undefined)[]): string[] {
  const keys: string[] = [];
  for (const svc of services) {
    const sel = serviceSelector(svc);
    if (sel && pods.some((p) => p && selects(sel, p))) keys.push(objectKey(svc));
  }
  return keys;
}

/** Calls `fn` with the object of every add, update and delete. */
export function onEveryChange<T extends KubeObject>(inf: Informer<T>, fn: (obj: T) => void): void {
  inf.on({ add: fn, update: (_o, obj) => fn(obj), delete: fn });
}

/** Calls `wake(key)` for every change of a Service, and for the Services selecting a changed pod. */
export function watchServicesAndPods(svcInf: Informer<ServiceObj>, podInf: Informer<PodObj>, wake: (key: string) => void): void {
  onEveryChange(svcInf, (s) => wake(objectKey(s)));
  const podChanged = (old: PodObj | undefined, pod: PodObj): void => {
    for (const key of servicesSelecting(svcInf.list(pod.metadata?.namespace), old, pod)) wake(key);
  };
  podInf.on({ add: (p) => podChanged(undefined, p), update: (o, p) => podChanged(o, p), delete: (p) => podChanged(undefined, p) });
}

export class EndpointsController implements Controller {
  readonly name = 'endpoint';
  readonly queue: WorkQueue;
  private readonly svcInf: Informer<ServiceObj>;
  private readonly podInf: Informer<PodObj>;
  private readonly epInf: Informer<EndpointsObj>;
  private readonly triggers: TriggerTimes;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    this.triggers = new TriggerTimes(deps.clock);
    this.svcInf = deps.informers.for<ServiceObj>(SERVICES);
    this.podInf = deps.informers.for<PodObj>(PODS);
    this.epInf = deps.informers.for<EndpointsObj>(ENDPOINTS);
    watchServicesAndPods(this.svcInf, this.podInf, (key) => {
      this.triggers.note(key);
      this.queue.add(key);
    });
    // Someone else changed or deleted an Endpoints: put it back (or remove it if its Service is gone).
    onEveryChange(this.epInf, (e) => this.queue.add(objectKey(e)));
  }

  enqueueAll(): void {
    for (const s of this.svcInf.list()) this.queue.add(objectKey(s));
    for (const e of this.epInf.list()) if (isControllerManaged(e)) this.queue.add(objectKey(e));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const { client, clock } = this.deps;
    const svc = this.svcInf.get(namespace, name);
    const current = this.epInf.get(namespace, name);
    const since = clock.now();
    if (!svc) {
      if (current && isControllerManaged(current)) {
        await ignoreNotFound(client.delete(ENDPOINTS, namespace, name, { preconditions: { uid: current.metadata?.uid } }));
      }
      this.triggers.done(key, since);
      return;
    }
    const plan = planEndpoints(svc, this.podInf.list(namespace), current, this.triggers.pending(key));
    if (plan.action === 'create') await client.create<EndpointsObj>(ENDPOINTS, namespace, plan.endpoints as EndpointsObj);
    else if (plan.action === 'update') await client.update<EndpointsObj>(ENDPOINTS, namespace, plan.endpoints as EndpointsObj);
    this.triggers.done(key, since);
  }
}
