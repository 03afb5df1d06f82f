// Snapshot metrics in a prom-client registry (the API server's /metrics). The names are a
// contract: alert rules (deploy/prometheus) are written against them. The two gauges carry a
// `server` label so that they have no series until this server knows of a successful snapshot:
// an unlabelled gauge would read 0 (1970) and fire the missing-snapshot alert on every new server.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class SnapshotMetrics {
  readonly lastSuccess: Gauge<'server'>;
  readonly lastSize: Gauge<'server'>;
  readonly total: Counter<'result'>;
  readonly duration: Histogram;

  constructor(registry: Registry, private readonly server: string) {
    this.lastSuccess = new Gauge({ name: 'trireme_snapshot_last_success_timestamp_seconds', help: 'Unix time of the newest successful snapshot this server holds', labelNames: ['server'], registers: [registry] });
    this.lastSize = new Gauge({ name: 'trireme_snapshot_last_size_bytes', help: 'Size of the newest successful snapshot file this server holds', labelNames: ['server'], registers: [registry] });
    this.total = new Counter({ name: 'trireme_snapshot_total', help: 'Snapshots attempted by this server, by result', labelNames: ['result'], registers: [registry] });
    this.duration = new Histogram({ name: 'trireme_snapshot_duration_seconds', help: 'Time to take a snapshot (copy, index, compress, write)', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [registry] });
    // Both series exist from the start, so a rate() over them is defined before the first snapshot.
    this.total.inc({ result: 'success' }, 0);
    this.total.inc({ result: 'failure' }, 0);
  }

  /** A snapshot file found at start (taken by an earlier run of this server). */
  found(createdMs: number, sizeBytes: number): void {
    this.lastSuccess.set({ server: this.server }, createdMs / 1000);
    this.lastSize.set({ server: this.server }, sizeBytes);
  }

  succeeded(nowMs: number, sizeBytes: number, seconds: number): void {
    this.found(nowMs, sizeBytes);
    this.total.inc({ result: 'success' });
    this.duration.observe(seconds);
  }

  failed(seconds: number): void {
    this.total.inc({ result: 'failure' });
    this.duration.observe(seconds);
  }
}
