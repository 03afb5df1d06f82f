// Prometheus metrics of leader election (prom-client), one set per process and registry:
// `trireme_leader_transitions_total{lease,change}` counts this process's leadership changes
// (change = started | stopped | lost), `trireme_leader{lease,identity}` is 1 while this
// process's identity leads that Lease and 0 after. Guarantees: several components (the
// controller manager and the scheduler of one `trireme server`) share one instance, so the
// metric names are registered once per registry. Does not: serve them (the API server's
// /metrics exposes the registry of in-process components; a standalone component serves its
// own with --metrics-bind-address) or see other processes' leadership (read the Lease for that).
import { Counter, Gauge, type Registry } from 'prom-client';

export type LeaderChange = 'started' | 'stopped' | 'lost';

export class LeaderMetrics {
  private readonly transitions: Counter<'lease' | 'change'>;
  private readonly leader: Gauge<'lease' | 'identity'>;

  constructor(registry: Registry) {
    this.transitions = new Counter({ name: 'trireme_leader_transitions_total', help: 'Leadership changes of this process, by Lease and change (started, stopped, lost)', labelNames: ['lease', 'change'], registers: [registry] });
    this.leader = new Gauge({ name: 'trireme_leader', help: '1 while this identity leads the Lease, 0 after', labelNames: ['lease', 'identity'], registers: [registry] });
  }

  record(lease: string, identity: string, change: LeaderChange): void {
    this.transitions.inc({ lease, change });
    this.leader.set({ lease, identity }, change === 'started' ? 1 : 0);
  }
}
