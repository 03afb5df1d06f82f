// Prometheus metrics of the node lifecycle controller (prom-client), one set per registry:
// `trireme_node_lifecycle_zone_state{zone,state}` is 1 for each zone's current state (Normal,
// PartialDisruption, FullDisruption) and 0 for the others; `trireme_node_lifecycle_zone_nodes` /
// `..._zone_silent_nodes{zone}` count its nodes and the silent ones; `trireme_node_evictions_total
// {zone}` counts pods deleted by taint-based eviction (Kubernetes: node_collector_evictions_total);
// `trireme_node_eviction_suppressed` is the number of silent nodes whose eviction the
// mass-disruption guard holds now. Guarantees: created once per process and registry (the
// controller manager restarts with each leadership term; the metrics outlive it). Does not: serve
// them (`trireme server` exposes the API server's registry on /metrics; a standalone
// controller manager serves its own with --metrics-bind-address).
import { Counter, Gauge, type Registry } from 'prom-client';
import { ZONE_STATES, type DisruptionDecision } from './disruption.js';

export class NodeLifecycleMetrics {
  private readonly zoneState: Gauge<'zone' | 'state'>;
  private readonly zoneNodes: Gauge<'zone'>;
  private readonly zoneSilent: Gauge<'zone'>;
  private readonly evictions: Counter<'zone'>;
  private readonly suppressed: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.zoneState = new Gauge({ name: 'trireme_node_lifecycle_zone_state', help: '1 for the current state of each zone (Normal, PartialDisruption, FullDisruption)', labelNames: ['zone', 'state'], registers });
    this.zoneNodes = new Gauge({ name: 'trireme_node_lifecycle_zone_nodes', help: 'Nodes per zone', labelNames: ['zone'], registers });
    this.zoneSilent = new Gauge({ name: 'trireme_node_lifecycle_zone_silent_nodes', help: 'Nodes per zone with no heartbeat observed within the grace period', labelNames: ['zone'], registers });
    this.evictions = new Counter({ name: 'trireme_node_evictions_total', help: 'Pods deleted by taint-based eviction, by zone of their node', labelNames: ['zone'], registers });
    this.suppressed = new Gauge({ name: 'trireme_node_eviction_suppressed', help: 'Silent nodes whose eviction the mass-disruption guard holds', registers });
  }

  zones(d: DisruptionDecision, held: number): void {
    for (const [zone, z] of d.zones) {
      for (const state of ZONE_STATES) this.zoneState.set({ zone, state }, state === z.state ? 1 : 0);
      this.zoneNodes.set({ zone }, z.nodes);
      this.zoneSilent.set({ zone }, z.silent);
    }
    this.suppressed.set(held);
  }

  /** A zone with no nodes left: its series go. */
  zoneGone(zone: string): void {
    for (const state of ZONE_STATES) this.zoneState.remove({ zone, state });
    this.zoneNodes.remove({ zone });
    this.zoneSilent.remove({ zone });
  }

  evicted(zone: string, pods: number): void {
    if (pods > 0) this.evictions.inc({ zone }, pods);
  }
}
