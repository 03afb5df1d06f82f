// Filter and score for node affinity: `spec.nodeSelector` and the required node affinity
// must both match; preferred terms add their weights to the score.
// Guarantees: pure; Kubernetes semantics — nodeSelectorTerms are ORed, expressions and
// fields inside a term ANDed, a term with neither matches nothing; Gt/Lt compare integers
// (a non-integer label never matches); matchFields supports `metadata.name`.
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

const INTEGER = /^[-+]?[0-9]+$/;

export function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': case 'Lt': {
      const bound = values[0];
      if (value === undefined || values.length !== 1 || bound === undefined || !INTEGER.test(value) || !INTEGER.test(bound)) return false;
      return r.operator === 'Gt' ? BigInt(value) > BigInt(bound) : BigInt(value) < BigInt(bound);
    }
    default: return false;
  }
}

export function termMatches(term: NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) {
    if (!requirementMatches(r, Object.hasOwn(node.labels, r.key) ? node.labels[r.key] : undefined)) return false;
  }
  for (const r of fields) {
    // metadata.name is the only field Kubernetes supports here.
    if (r.key !== 'metadata.name' || !requirementMatches(r, node.name)) return false;
  }
  return true;
}

export function nodeSelectorMatches(sel: NodeSelector, node: NodeInfo): boolean {
  return sel.nodeSelectorTerms.some((t) => termMatches(t, node));
}

export function filterNodeAffinity(pod: PodInfo, node: NodeInfo): string | null {
  const ns = pod.nodeSelector;
  if (ns) {
    for (const k in ns) if (node.labels[k] !== ns[k]) return REASON_NODE_AFFINITY;
  }
  if (pod.requiredNodeAffinity && !nodeSelectorMatches(pod.requiredNodeAffinity, node)) return REASON_NODE_AFFINITY;
  return null;
}

/** Raw score: the sum of the weights of the preferred terms the node matches. */
export function scoreNodeAffinity(pod: PodInfo, node: NodeInfo): number {
  let sum = 0;
  for (const p of pod.preferredNodeAffinity) if (p.weight !== 0 && termMatches(p.preference, node)) sum += p.weight;
  return sum;
}

/** Scales raw scores in place to 0–100 by the highest one (all 0 stays 0). */
export function normalizeByMax(scores: Float64Array): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) return;
  for (let i = 0; i < scores.length; i++) scores[i] = (100 * (scores[i] ?? 0)) / max;
}
