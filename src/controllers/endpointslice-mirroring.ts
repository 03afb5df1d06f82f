// The EndpointSlice mirroring controller: Endpoints made by hand for a Service without a
// selector are mirrored into EndpointSlices, as Kubernetes' EndpointSliceMirroring controller
// does, so slice consumers see them too (`default/kubernetes`, whose Endpoints the API servers
// keep, included).
// Slices: generateName `<name>-`, labels `kubernetes.io/service-name: <name>`,
// `endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io` plus the
// Endpoints' labels, a controller ownerReference to the Endpoints. Ready addresses have
// `ready: true`, notReadyAddresses `ready: false`; at most 1000 addresses are mirrored; the
// trigger-time annotation is the Endpoints' own when it has one.
// Guarantees: one key per Endpoints name, woken by the Endpoints, its Service and its mirrored
// slices; mirroring happens only while the Service exists without a selector and the Endpoints
// is not labelled `endpointslice.kubernetes.io/skip-mirror: "true"` (nor a leader-election
// record); otherwise its mirrored slices are deleted. Does not: mirror more than 1000 addresses.
import type { Informer } from '../client/informer.js';
import { objectKey, splitKey } from '../client/keys.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller } from './common/controller.js';
import { newControllerRef } from './common/owner.js';
import { ENDPOINTS, onEveryChange, SERVICES, type EndpointsObj, type ServiceObj } from './endpoints.js';
import { TRIGGER_TIME_ANNOTATION } from './endpoints/plan.js';
import { enqueueManagedSlices, managedSlices, STALE_RECHECK_MS, watchManagedSlices } from './endpointslice.js';
import { MIRRORING_CONTROLLER_NAME, mirroredSliceGroups, mirroredSliceLabels, planSlices, shouldMirror } from './endpointslice/plan.js';
import { ENDPOINTSLICES, SliceWriter, type SliceObj } from './endpointslice/writer.js';
import type { ControllerDeps } from './replicaset.js';

export class EndpointSliceMirroringController implements Controller {
  readonly name = 'endpointslice-mirroring';
  readonly queue: WorkQueue;
  private readonly svcInf: Informer<ServiceObj>;
  private readonly epInf: Informer<EndpointsObj>;
  private readonly sliceInf: Informer<SliceObj>;
  private readonly writer: SliceWriter;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    this.writer = new SliceWriter(deps.client, deps.clock);
    this.svcInf = deps.informers.for<ServiceObj>(SERVICES);
    this.epInf = deps.informers.for<EndpointsObj>(ENDPOINTS);
    this.sliceInf = deps.informers.for<SliceObj>(ENDPOINTSLICES);
    onEveryChange(this.svcInf, (o) => this.queue.add(objectKey(o)));
    onEveryChange(this.epInf, (o) => this.queue.add(objectKey(o)));
    watchManagedSlices(this.sliceInf, MIRRORING_CONTROLLER_NAME, this.queue, this.writer);
  }

  enqueueAll(): void {
    for (const e of this.epInf.list()) this.queue.add(objectKey(e));
    enqueueManagedSlices(this.sliceInf, MIRRORING_CONTROLLER_NAME, this.queue);
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const existing = managedSlices(this.sliceInf, namespace, name, MIRRORING_CONTROLLER_NAME);
    if (this.writer.stale(key, existing)) return this.queue.addAfter(key, STALE_RECHECK_MS);
    const ep = this.epInf.get(namespace, name);
    if (!ep || !shouldMirror(ep, this.svcInf.get(namespace, name))) {
      if (existing.length) await this.writer.apply(key, namespace ?? '', { create: [], update: [], delete: existing });
      if (!ep) this.writer.forget(key);
      return;
    }
    const plan = planSlices(mirroredSliceGroups(ep), existing, {
      namespace: namespace ?? '',
      generateName: `${name}-`,
      labels: mirroredSliceLabels(ep),
      owner: newControllerRef(ep, 'v1', 'Endpoints'),
    }, Date.parse(ep.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION] ?? '') || this.deps.clock.now());
    await this.writer.apply(key, namespace ?? '', plan);
  }
}
