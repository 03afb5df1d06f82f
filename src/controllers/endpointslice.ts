// The EndpointSlice controller: keeps the discovery.k8s.io/v1 EndpointSlices of every Service
// with a selector equal to what endpointslice/plan.ts computes from the pods it selects.
// Slices: generateName `<svc>-`, labels `kubernetes.io/service-name: <svc>` and
// `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io` (Kubernetes' own
// value, so tools that look for controller-made slices find these) plus the Service's labels,
// a controller ownerReference to the Service.
// Guarantees: one key per Service, woken by it, by pods it selects (old or new labels) and by
// its slices; never plans from a cache that lacks slices it created itself (writer.ts); when
// the Service is gone or has no selector any more, its controller-made slices are deleted (the
// ownerReference lets the garbage collector do the same). Slices managed by anything else are
// never touched. Does not: set zones or hints.
import type { Informer } from '../client/informer.js';
import { objectKey, splitKey } from '../client/keys.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller } from './common/controller.js';
import { newControllerRef } from './common/owner.js';
import type { PodObj } from './common/types.js';
import { PODS, SERVICES, watchServicesAndPods, type ServiceObj } from './endpoints.js';
import { serviceSelector } from './endpoints/pod-ports.js';
import { TriggerTimes } from './endpoints/trigger-times.js';
import { planSlices, SERVICE_NAME_LABEL, serviceSliceGroups, serviceSliceLabels, SLICE_CONTROLLER_NAME, SLICE_MANAGED_BY_LABEL } from './endpointslice/plan.js';
import { ENDPOINTSLICES, SliceWriter, type SliceObj } from './endpointslice/writer.js';
import type { ControllerDeps } from './replicaset.js';

/** The key (`<ns>/<service>`) of a slice managed by `managedBy`, or undefined for other slices. */
export function sliceServiceKey(s: SliceObj, managedBy: string): string | undefined {
  const labels = s.metadata?.labels ?? {};
  const svc = labels[SERVICE_NAME_LABEL];
  if (!svc || labels[SLICE_MANAGED_BY_LABEL] !== managedBy) return undefined;
  return `${s.metadata?.namespace ?? ''}/${svc}`;
}

/** The cached slices of one Service managed by `managedBy`. */
export function managedSlices(inf: Informer<SliceObj>, namespace: string | undefined, service: string, managedBy: string): SliceObj[] {
  return inf.list(namespace).filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === service && s.metadata.labels[SLICE_MANAGED_BY_LABEL] === managedBy);
}

/** Informer handlers that wake the owning key of slices managed by `managedBy`. */
export function watchManagedSlices(inf: Informer<SliceObj>, managedBy: string, queue: WorkQueue, writer: SliceWriter): void {
  const wake = (s: SliceObj): void => {
    const key = sliceServiceKey(s, managedBy);
    if (key) queue.add(key);
  };
  inf.on({
    add: wake,
    update: (_o, s) => wake(s),
    delete: (s) => {
      const key = sliceServiceKey(s, managedBy);
      if (key) writer.observedDeleted(key, s.metadata?.uid);
      wake(s);
    },
  });
}

/** Queues the owning key of every cached slice managed by `managedBy`. */
export function enqueueManagedSlices(inf: Informer<SliceObj>, managedBy: string, queue: WorkQueue): void {
  for (const s of inf.list()) {
    const key = sliceServiceKey(s, managedBy);
    if (key) queue.add(key);
  }
}

/** How long to wait before looking again at a key whose cache lacks its own creations (their events normally come first). */
export const STALE_RECHECK_MS = 1000;

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  readonly queue: WorkQueue;
  private readonly svcInf: Informer<ServiceObj>;
  private readonly podInf: Informer<PodObj>;
  private readonly sliceInf: Informer<SliceObj>;
  private readonly triggers: TriggerTimes;
  private readonly writer: SliceWriter;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    this.triggers = new TriggerTimes(deps.clock);
    this.writer = new SliceWriter(deps.client, deps.clock);
    this.svcInf = deps.informers.for<ServiceObj>(SERVICES);
    this.podInf = deps.informers.for<PodObj>(PODS);
    this.sliceInf = deps.informers.for<SliceObj>(ENDPOINTSLICES);
    watchServicesAndPods(this.svcInf, this.podInf, (key) => {
      this.triggers.note(key);
      this.queue.add(key);
    });
    watchManagedSlices(this.sliceInf, SLICE_CONTROLLER_NAME, this.queue, this.writer);
  }

  enqueueAll(): void {
    for (const s of this.svcInf.list()) this.queue.add(objectKey(s));
    enqueueManagedSlices(this.sliceInf, SLICE_CONTROLLER_NAME, this.queue);
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const since = this.deps.clock.now();
    const svc = this.svcInf.get(namespace, name);
    const existing = managedSlices(this.sliceInf, namespace, name, SLICE_CONTROLLER_NAME);
    // Our own creations not cached yet: their informer events bring the key back.
    if (this.writer.stale(key, existing)) return this.queue.addAfter(key, STALE_RECHECK_MS);
    if (!svc || !serviceSelector(svc)) {
      await this.writer.apply(key, namespace ?? '', { create: [], update: [], delete: existing });
      if (!svc) this.writer.forget(key);
      this.triggers.done(key, since);
      return;
    }
    const plan = planSlices(serviceSliceGroups(svc, this.podInf.list(namespace)), existing, {
      namespace: namespace ?? '',
      generateName: `${name}-`,
      labels: serviceSliceLabels(svc, SLICE_CONTROLLER_NAME),
      owner: newControllerRef(svc, 'v1', 'Service'),
      placeholderAddressType: svc.spec?.ipFamilies?.[0] === 'IPv6' ? 'IPv6' : 'IPv4',
    }, this.triggers.pending(key));
    await this.writer.apply(key, namespace ?? '', plan);
    this.triggers.done(key, since);
  }
}
