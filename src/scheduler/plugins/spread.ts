// Score: spread a workload's pods across nodes. A pod's "siblings" are the pods with the
// same controlling owner and, in its namespace, the pods selected by a Service that
// selects it; nodes holding fewer siblings score higher.
// Guarantees: pure; 0–100 after normalization (no siblings anywhere → every node 100).
// Owner-only counting is O(1) per node (NodeInfo keeps per-owner counts); Service
// selectors cost O(pods on the node). Does not: weigh zones (Kubernetes' SelectorSpread
// adds a zone term).
import { matchesLabels, type LabelSelector } from '../../api/selectors.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import type { Snapshot } from '../snapshot.js';

export interface SpreadState {
  ownerUid: string | undefined;
  selectors: readonly LabelSelector[];
}

export function prepareSpread(pod: PodInfo, snap: Snapshot): SpreadState | null {
  const selectors = snap.serviceSelectors(pod);
  if (pod.ownerUid === undefined && selectors.length === 0) return null;
  return { ownerUid: pod.ownerUid, selectors };
}

/** Raw score: the number of siblings on the node (lower is better). */
export function countSiblings(pod: PodInfo, node: NodeInfo, state: SpreadState | null): number {
  if (state === null) return 0;
  if (state.selectors.length === 0) return state.ownerUid === undefined ? 0 : node.ownerCounts.get(state.ownerUid) ?? 0;
  let n = 0;
  for (const p of node.pods.values()) {
    if (state.ownerUid !== undefined && p.ownerUid === state.ownerUid) n++;
    else if (p.namespace === pod.namespace && state.selectors.some((s) => matchesLabels(s, p.labels))) n++;
  }
  return n;
}

/** Turns sibling counts into 0–100 in place: the fewest → highest; no siblings → 100. */
export function normalizeSpread(scores: Float64Array): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? 100 : (100 * (max - (scores[i] ?? 0))) / max;
}
