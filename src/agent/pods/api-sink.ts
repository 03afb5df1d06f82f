// The PodSink for pods that live in the API (bound to this node, or mirror pods of static pods).
// Guarantees: never throws; API failures are logged (the next sync retries, the pod keeps running).
// ConfigMap/Secret reads return undefined only for NotFound; other errors throw so the worker
// retries instead of reporting a missing object. Services come from an informer started at the
// first `services()` call (so a container restart needs no API call, as with the kubelet's
// lister); until its first list, a call waits up to `servicesSyncWaitMs` and then throws
// ServiceUnavailable (the worker retries the start); an informer whose first list is refused
// (403, …) is logged and replaced at the next call. `stop()` stops that informer.
import type { ConfigMap, Pod, PodStatus, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient } from '../../client/api-client.js';
import type { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { resource } from '../../client/resources.js';
import { TriremeError, isTriremeError } from '../../errors.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { PORTS_ANNOTATION, type PortAssignment } from './ports.js';
import type { PodSink } from './sink.js';

const PODS = resource('', 'pods');
const CONFIGMAPS = resource('', 'configmaps');
const SECRETS = resource('', 'secrets');
const SERVICES = resource('', 'services');
const DEFAULT_SERVICES_SYNC_WAIT_MS = 5_000;

type ServiceObj = Service & KubeObject;

export class ApiPodSink implements PodSink {
  constructor(
    private readonly client: ApiClient,
    private readonly recorder: EventRecorder,
    private readonly log: Logger,
    /** Maps the worker's pod to the API object to write (identity for ordinary pods; the mirror for static ones). */
    private readonly target: (pod: Pod) => { namespace: string; name: string; uid?: string; obj?: Pod } | undefined = (p) => ({ namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '', obj: p }),
    private readonly opts: { clock?: Clock; servicesSyncWaitMs?: number } = {},
  ) {}

  private svc: { inf: Informer<ServiceObj>; synced: Promise<void> } | undefined;
  private stopped = false;

  async services(namespace: string): Promise<Service[]> {
    if (!this.svc) {
      const inf = new Informer<ServiceObj>(this.client, SERVICES, { logger: this.log, clock: this.opts.clock });
      const synced = inf.start();
      this.svc = { inf, synced };
      synced.catch((e: unknown) => {
        if (this.stopped) return;
        // A refused first list: the next container start tries a new informer.
        this.log.error({ err: e }, 'service informer failed to start; container starts wait for it');
        if (this.svc?.inf === inf) this.svc = undefined;
      });
    }
    const { inf, synced } = this.svc;
    if (!inf.synced) await this.waitForSync(synced);
    const own = inf.list(namespace);
    return namespace === 'default' ? own : [...own, ...inf.list('default').filter((s) => s.metadata?.name === 'kubernetes')];
  }

  private waitForSync(synced: Promise<void>): Promise<void> {
    const clock = this.opts.clock ?? systemClock;
    const ms = this.opts.servicesSyncWaitMs ?? DEFAULT_SERVICES_SYNC_WAIT_MS;
    return new Promise<void>((resolve, reject) => {
      const t = clock.setTimeout(() => reject(new TriremeError('ServiceUnavailable', 'services have not yet been read at least once, cannot construct envvars')), ms);
      synced.then(() => {
        clock.clearTimeout(t);
        resolve();
      }, (e: unknown) => {
        clock.clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  /** Stops the service informer, if one was started. */
  stop(): void {
    this.stopped = true;
    this.svc?.inf.stop();
  }

  private async getOrUndefined<T extends KubeObject>(res: typeof PODS, ns: string, name: string): Promise<T | undefined> {
    try {
      return await this.client.get<T>(res, ns, name);
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.getOrUndefined<ConfigMap & KubeObject>(CONFIGMAPS, namespace, name);
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.getOrUndefined<Secret & KubeObject>(SECRETS, namespace, name);
  }

  async patchStatus(pod: Pod, status: PodStatus): Promise<void> {
    const t = this.target(pod);
    if (!t) return;
    try {
      await this.client.patch(PODS, t.namespace, t.name, 'merge', { status }, { subresource: 'status' });
    } catch (e) {
      if (!isTriremeError(e, 'NotFound')) this.log.warn({ err: e, pod: t.name }, 'pod status update failed');
      throw e;
    }
  }

  async recordPorts(pod: Pod, ports: PortAssignment): Promise<void> {
    const t = this.target(pod);
    if (!t) return;
    try {
      await this.client.patch(PODS, t.namespace, t.name, 'merge', { metadata: { annotations: { [PORTS_ANNOTATION]: JSON.stringify(ports) } } });
    } catch (e) {
      // Nodes may not be allowed to patch pods: the status condition trireme.io/PortsAllocated
      // carries the same record.
      this.log.debug({ err: e, pod: t.name }, 'could not annotate the pod with its ports');
    }
  }

  async deletePod(pod: Pod): Promise<void> {
    const t = this.target(pod);
    if (!t) return;
    try {
      await this.client.delete(PODS, t.namespace, t.name, { gracePeriodSeconds: 0, ...(t.uid ? { preconditions: { uid: t.uid } } : {}) });
    } catch (e) {
      if (!isTriremeError(e, 'NotFound') && !isTriremeError(e, 'Conflict')) this.log.warn({ err: e, pod: t.name }, 'pod delete failed');
    }
  }

  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const t = this.target(pod);
    if (!t?.obj) return;
    this.recorder.event(t.obj as Pod & KubeObject, type, reason, message);
  }
}
