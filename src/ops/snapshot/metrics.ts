// Snapshot metrics in a prom-client registry (the API server's /metrics). The names are a
// contract: alert rules (deploy/prometheus) are written against them.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class SnapshotMetrics {
  readonly lastSuccess: Gauge;
  readonly lastSize: Gauge;
  readonly total: Counter<'result'>;
  readonly duration: Histogram;

  constructor(registry: Registry) {
    this.lastSuccess = new Gauge({ name: 'trireme_snapshot_last_success_timestamp_seconds', help: 'Unix time of the last snapshot this server took successfully', registers: [registry] });
    this.lastSize = new Gauge({ name: 'trireme_snapshot_last_size_bytes', help: 'Size of the last successful snapshot file', registers: [registry] });
    this.total = new Counter({ name: 'trireme_snapshot_total', help: 'Snapshots attempted by this server, by result', labelNames: ['result'], registers: [registry] });
    this.duration = new Histogram({ name: 'trireme_snapshot_duration_seconds', help: 'Time to take a snapshot (copy, index, compress, write)', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [registry] });
    // Both series exist from the start, so a rate() over them is defined before the first snapshot.
    this.total.inc({ result: 'success' }, 0);
    this.total.inc({ result: 'failure' }, 0);
  }

  succeeded(nowMs: number, sizeBytes: number, seconds: number): void {
    this.lastSuccess.set(nowMs / 1000);
    this.lastSize.set(sizeBytes);
    this.total.inc({ result: 'success' });
    this.duration.observe(seconds);
  }

  failed(seconds: number): void {
    this.total.inc({ result: 'failure' });
    this.duration.observe(seconds);
  }
}
