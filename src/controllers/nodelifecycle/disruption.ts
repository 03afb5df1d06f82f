// The mass-disruption guard (pure), Kubernetes' zone states for the node lifecycle controller:
// when many nodes are silent at the same time, the control plane is more likely the one cut off
// than all of them dead, and evicting would only pile every workload onto the few nodes it still
// hears (or nowhere). Nodes are grouped by the `topology.kubernetes.io/zone` label (unlabelled
// nodes form the zone ""). Guarantees: a zone is Normal while at most `unhealthyThreshold` of its
// nodes are silent, PartialDisruption above that, FullDisruption when all are; the cluster is cut
// off when more than `unhealthyThreshold` of all nodes are silent. Silent nodes may be tainted for
// eviction ('normal') in a Normal zone, and in a fully silent zone while the rest of the cluster
// reports (that zone is lost, as in Kubernetes); in a partially disrupted zone and everywhere
// while the cluster is cut off they only pass at the slow rate ('limited'; rate 0 = never). A
// single silent node never trips the guard unless it is the only node: in a 2-node cluster 1
// silent is half, not more than half; in 3 nodes 2 silent at once are. Does not: keep the token
// buckets or the zone states between calls (the controller does), or look at nodes that report
// Ready=False (their agent speaks; they are not silent).
import type { NodeObj } from '../common/types.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** More than this fraction silent trips the guard (0.5: more than half; Kubernetes: 0.55). */
export const DEFAULT_UNHEALTHY_THRESHOLD = 0.5;

/** Nodes per second tainted for eviction while the guard holds (Kubernetes' secondary rate: 0.01); 0 = none. */
export const DEFAULT_SECONDARY_EVICTION_RATE = 0;

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';
export const ZONE_STATES: readonly ZoneState[] = ['Normal', 'PartialDisruption', 'FullDisruption'];
export type EvictionMode = 'normal' | 'limited';

export const zoneOf = (node: NodeObj): string => node.metadata?.labels?.[ZONE_LABEL] ?? '';

export interface ZoneHealth {
  state: ZoneState;
  nodes: number;
  silent: number;
  mode: EvictionMode;
}

export interface DisruptionDecision {
  zones: Map<string, ZoneHealth>;
  /** More than the threshold of all nodes are silent. */
  cutOff: boolean;
  nodes: number;
  silent: number;
}

export function decideDisruption(nodes: ReadonlyArray<{ zone: string; silent: boolean }>, unhealthyThreshold = DEFAULT_UNHEALTHY_THRESHOLD): DisruptionDecision {
  const counts = new Map<string, { nodes: number; silent: number }>();
  for (const n of nodes) {
    const c = counts.get(n.zone) ?? { nodes: 0, silent: 0 };
    c.nodes++;
    if (n.silent) c.silent++;
    counts.set(n.zone, c);
  }
  const silent = nodes.filter((n) => n.silent).length;
  const cutOff = silent > 0 && silent > unhealthyThreshold * nodes.length;
  const zones = new Map<string, ZoneHealth>();
  for (const [zone, c] of counts) {
    const state: ZoneState = c.silent === c.nodes ? 'FullDisruption' : c.silent > unhealthyThreshold * c.nodes ? 'PartialDisruption' : 'Normal';
    const mode: EvictionMode = cutOff || state === 'PartialDisruption' ? 'limited' : 'normal';
    zones.set(zone, { state, nodes: c.nodes, silent: c.silent, mode });
  }
  return { zones, cutOff, nodes: nodes.length, silent };
}

/** A token bucket of burst 1: `tokens` available at `at` (controller clock, ms). */
export interface Bucket { tokens: number; at: number }

/** Takes one token if there is one at `now`, refilling at `ratePerSecond`; returns the new bucket. */
export function takeToken(bucket: Bucket | undefined, now: number, ratePerSecond: number): { ok: boolean; bucket: Bucket; retryInMs?: number } {
  if (ratePerSecond <= 0) return { ok: false, bucket: bucket ?? { tokens: 0, at: now } };
  // A new bucket starts empty: the guard just tripped, the first node waits one interval.
  const prev = bucket ?? { tokens: 0, at: now };
  const tokens = Math.min(1, prev.tokens + ((now - prev.at) / 1000) * ratePerSecond);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
  return { ok: false, bucket: { tokens, at: now }, retryInMs: Math.ceil(((1 - tokens) / ratePerSecond) * 1000) };
}

/** One line for logs and Events: why evictions are held in this zone. */
export function holdMessage(d: DisruptionDecision, zone: string): string {
  const z = d.zones.get(zone);
  const where = zone === '' ? '' : ` (zone ${zone}: ${z?.silent ?? 0} of ${z?.nodes ?? 0})`;
  const why = d.cutOff ? 'the control plane is probably the one cut off' : `zone ${zone} is in ${z?.state ?? 'Normal'}`;
  return `${d.silent} of ${d.nodes} nodes are silent at once${where}: ${why}; evictions held`;
}
