// The DNS server's view of the cluster: informers of Services, Endpoints and Pods (every
// namespace; pods without a terminal phase), and the snapshot built from them. Guarantees: no
// API call per query — queries read the informers' caches; the snapshot is rebuilt at most once
// per change, lazily on the first query after it, so a burst of events costs one rebuild;
// `start()` resolves once all three informers have their first list (a permanent failure, such
// as 403, rejects it). Does not: bound staleness beyond the informers' own watch latency.
import type { Endpoints as EndpointsT, Pod as PodT, Service as ServiceT } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/api-client.js';
import { Informer } from '../client/informer.js';
import { resource } from '../client/resources.js';
import type { Logger } from '../util/log.js';
import { buildSnapshot, type DnsSnapshot } from './snapshot.js';

type Service = ServiceT & KubeObject;
type Endpoints = EndpointsT & KubeObject;
type Pod = PodT & KubeObject;

export class ClusterCache {
  private readonly services: Informer<Service>;
  private readonly endpoints: Informer<Endpoints>;
  private readonly pods: Informer<Pod>;
  private current: DnsSnapshot | undefined;
  private serial: number;

  constructor(client: ApiClient, logger: Logger, now: number) {
    const opts = { logger };
    this.services = new Informer<Service>(client, resource('', 'services'), opts);
    this.endpoints = new Informer<Endpoints>(client, resource('', 'endpoints'), opts);
    this.pods = new Informer<Pod>(client, resource('', 'pods'), { ...opts, fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' });
    // Seconds since the epoch at start: a restarted server's serials keep growing.
    this.serial = Math.floor(now / 1000);
    const dirty = { add: () => this.invalidate(), update: () => this.invalidate(), delete: () => this.invalidate() };
    for (const inf of [this.services, this.endpoints, this.pods] as Informer<never>[]) inf.on(dirty);
  }

  async start(): Promise<void> {
    await Promise.all([this.services.start(), this.endpoints.start(), this.pods.start()]);
  }

  stop(): void {
    this.services.stop();
    this.endpoints.stop();
    this.pods.stop();
  }

  snapshot(): DnsSnapshot {
    this.current ??= buildSnapshot({ services: this.services.list(), endpoints: this.endpoints.list(), pods: this.pods.list() }, ++this.serial);
    return this.current;
  }

  private invalidate(): void {
    this.current = undefined;
  }
}
