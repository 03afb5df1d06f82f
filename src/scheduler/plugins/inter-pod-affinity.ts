// Filter and score for inter-pod affinity: the pod's required affinity / anti-affinity,
// the required anti-affinity of pods already placed (symmetry), and the preferred terms of
// both sides, over any topologyKey (`kubernetes.io/hostname` makes a domain of one node).
// Guarantees: pure; counts are computed once per pod in `prepareInterPodAffinity` (one pass
// over the placed pods) so that per-node checks are map lookups; Kubernetes semantics —
// affinity is satisfied by a domain holding a pod that matches *all* required affinity
// terms, or, when no pod anywhere matches them and the pod matches its own terms, by any
// node that has the topology labels (the first pod of a group); a node without an
// anti-affinity term's topology label is never excluded by it.
// Does not: support matchLabelKeys / mismatchLabelKeys.
import { matchesLabels } from '../../api/selectors.js';
import type { NodeInfo } from '../node-info.js';
import type { AffinityTerm, PodInfo } from '../pod-info.js';
import type { Snapshot } from '../snapshot.js';

export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** Weight of an existing pod's *required* affinity term when scoring its symmetric side. */
export const HARD_POD_AFFINITY_WEIGHT = 1;

/** Whether `term` (owned by a pod in some namespace, already resolved in the term) selects `target`. */
export function termSelectsPod(term: AffinityTerm, target: PodInfo, snap: Snapshot): boolean {
  const nsOk = term.namespaces.has(target.namespace)
    || (term.namespaceSelector !== null && matchesLabels(term.namespaceSelector, snap.namespaceLabels(target.namespace)));
  return nsOk && matchesLabels(term.selector, target.labels);
}

const pair = (key: string, value: string): string => `${key}\u0000${value}`;

export interface InterPodAffinityFilterState {
  /** topology pair → pods matching all of the incoming pod's required affinity terms. */
  affinityCounts: Map<string, number>;
  /** topology pair → pods matching one of the incoming pod's anti-affinity terms. */
  antiAffinityCounts: Map<string, number>;
  /** topology pair → placed pods whose anti-affinity selects the incoming pod. */
  existingAntiAffinityCounts: Map<string, number>;
  /** The topology keys that appear in existingAntiAffinityCounts. */
  existingAntiAffinityKeys: Set<string>;
  /** Whether the pod matches all of its own required affinity terms. */
  matchesOwnAffinity: boolean;
}

function forEachNodePod(snap: Snapshot, fn: (node: NodeInfo, p: PodInfo) => void): void {
  for (const node of snap.nodeList) for (const p of node.pods.values()) fn(node, p);
}

function bump(m: Map<string, number>, node: NodeInfo, key: string, by = 1): void {
  const v = node.labels[key];
  if (v === undefined) return;
  const k = pair(key, v);
  m.set(k, (m.get(k) ?? 0) + by);
}

/** Pre-computation for the filter; null when nothing about inter-pod affinity can reject. */
export function prepareInterPodAffinity(pod: PodInfo, snap: Snapshot): InterPodAffinityFilterState | null {
  const existing = new Map<string, number>();
  const existingKeys = new Set<string>();
  for (const node of snap.nodeList) {
    if (node.podsWithRequiredAntiAffinity.size === 0) continue;
    for (const p of node.podsWithRequiredAntiAffinity.values()) {
      for (const t of p.requiredAntiAffinity) if (termSelectsPod(t, pod, snap)) {
        existingKeys.add(t.topologyKey);
        bump(existing, node, t.topologyKey);
      }
    }
  }
  const aff = pod.requiredAffinity;
  const anti = pod.requiredAntiAffinity;
  if (existing.size === 0 && aff.length === 0 && anti.length === 0) return null;
  const affinityCounts = new Map<string, number>();
  const antiAffinityCounts = new Map<string, number>();
  if (aff.length > 0 || anti.length > 0) {
    forEachNodePod(snap, (node, p) => {
      if (aff.length > 0 && aff.every((t) => termSelectsPod(t, p, snap))) for (const t of aff) bump(affinityCounts, node, t.topologyKey);
      for (const t of anti) if (termSelectsPod(t, p, snap)) bump(antiAffinityCounts, node, t.topologyKey);
    });
  }
  const matchesOwnAffinity = aff.every((t) => termSelectsPod(t, pod, snap));
  return { affinityCounts, antiAffinityCounts, existingAntiAffinityCounts: existing, existingAntiAffinityKeys: existingKeys, matchesOwnAffinity };
}

function countAt(m: Map<string, number>, node: NodeInfo, key: string): number {
  const v = node.labels[key];
  return v === undefined ? 0 : m.get(pair(key, v)) ?? 0;
}

export function filterInterPodAffinity(pod: PodInfo, node: NodeInfo, state: InterPodAffinityFilterState | null): string | null {
  if (state === null) return null;
  if (pod.requiredAffinity.length > 0) {
    let ok = true;
    for (const t of pod.requiredAffinity) {
      if (node.labels[t.topologyKey] === undefined) return REASON_AFFINITY;
      if (countAt(state.affinityCounts, node, t.topologyKey) <= 0) ok = false;
    }
    // The first pod of a group that selects itself may go anywhere the topology exists.
    if (!ok && !(state.affinityCounts.size === 0 && state.matchesOwnAffinity)) return REASON_AFFINITY;
  }
  if (state.antiAffinityCounts.size > 0) {
    for (const t of pod.requiredAntiAffinity) if (countAt(state.antiAffinityCounts, node, t.topologyKey) > 0) return REASON_ANTI_AFFINITY;
  }
  if (state.existingAntiAffinityCounts.size > 0) {
    for (const k of state.existingAntiAffinityKeys) if (countAt(state.existingAntiAffinityCounts, node, k) > 0) return REASON_EXISTING_ANTI_AFFINITY;
  }
  return null;
}

export interface InterPodAffinityScoreState {
  /** topology pair → accumulated weight. */
  scores: Map<string, number>;
  topologyKeys: Set<string>;
}

/** Pre-computation for the score; null when no preferred term on either side applies. */
export function prepareInterPodAffinityScore(pod: PodInfo, snap: Snapshot): InterPodAffinityScoreState | null {
  const scores = new Map<string, number>();
  const topologyKeys = new Set<string>();
  const add = (node: NodeInfo, key: string, w: number) => {
    topologyKeys.add(key);
    bump(scores, node, key, w);
  };
  const incoming = pod.preferredAffinity.length > 0 || pod.preferredAntiAffinity.length > 0;
  for (const node of snap.nodeList) {
    const pods = incoming ? node.pods : node.podsWithAffinity;
    if (pods.size === 0) continue;
    for (const p of pods.values()) {
      for (const t of pod.preferredAffinity) if (termSelectsPod(t, p, snap)) add(node, t.topologyKey, t.weight);
      for (const t of pod.preferredAntiAffinity) if (termSelectsPod(t, p, snap)) add(node, t.topologyKey, -t.weight);
      // Symmetry: placed pods' own terms about the incoming pod.
      for (const t of p.preferredAffinity) if (termSelectsPod(t, pod, snap)) add(node, t.topologyKey, t.weight);
      for (const t of p.preferredAntiAffinity) if (termSelectsPod(t, pod, snap)) add(node, t.topologyKey, -t.weight);
      for (const t of p.requiredAffinity) if (termSelectsPod(t, pod, snap)) add(node, t.topologyKey, HARD_POD_AFFINITY_WEIGHT);
    }
  }
  return topologyKeys.size === 0 ? null : { scores, topologyKeys };
}

/** Raw score (may be negative): the weights accumulated on the node's topology domains. */
export function scoreInterPodAffinity(node: NodeInfo, state: InterPodAffinityScoreState | null): number {
  if (state === null) return 0;
  let s = 0;
  for (const k of state.topologyKeys) s += countAt(state.scores, node, k);
  return s;
}

/** Min–max scaling in place to 0–100 (all equal → 0), as Kubernetes normalizes this score. */
export function normalizeMinMax(scores: Float64Array): void {
  if (scores.length === 0) return;
  let min = Infinity;
  let max = -Infinity;
  for (const s of scores) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  const span = max - min;
  for (let i = 0; i < scores.length; i++) scores[i] = span > 0 ? (100 * ((scores[i] ?? 0) - min)) / span : 0;
}
