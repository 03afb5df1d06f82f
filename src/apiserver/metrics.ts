// API server metrics (prom-client), named as Kubernetes names them where one exists. The same
// registry carries the store's (storage/instrumented.ts), the certificates' (cert-metrics.ts), the
// cluster state's (cluster-state-metrics.ts), the etcd members' (store-member-metrics.ts) and those
// of the components `trireme server` runs in-process; /metrics serves it.
import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new PromRegistry();
  readonly requests = new Counter({ name: 'apiserver_request_total', help: 'API requests by verb, resource and HTTP code', labelNames: ['verb', 'group', 'resource', 'subresource', 'code'], registers: [this.registry] });
  readonly duration = new Histogram({ name: 'apiserver_request_duration_seconds', help: 'API request latency (watches excluded)', labelNames: ['verb', 'resource'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  /** Writes refused because their fence's Lease had moved on (a deposed leader's late writes). */
  readonly fencedWrites = new Counter({ name: 'trireme_apiserver_fenced_writes_total', help: 'Writes refused with 409 because the Lease their fence names has moved on', labelNames: ['lease'], registers: [this.registry] });
  readonly watches = new Gauge({ name: 'apiserver_longrunning_requests', help: 'Open watch streams', labelNames: ['resource'], registers: [this.registry] });
  /** Requests being served now, watches excluded (Kubernetes: apiserver_current_inflight_requests). */
  /** Requests refused by flow control (flow-control.ts), by priority level and why. */
  readonly rejected = new Counter({ name: 'trireme_apiserver_rejected_requests_total', help: 'Requests refused with 429 by flow control, by priority level and reason (inflight: the level\'s seats were taken; watches: the user\'s long-running cap)', labelNames: ['priority_level', 'reason'], registers: [this.registry] });
  readonly inflight = new Gauge({ name: 'apiserver_current_inflight_requests', help: 'Requests in flight (watches excluded), by readOnly or mutating', labelNames: ['request_kind'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'trireme_apiserver_' });
  }
}
