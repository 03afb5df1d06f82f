// One scheduling decision: filter the nodes, score the feasible ones, pick the best.
// Guarantees: synchronous and free of I/O — it reads the snapshot and never changes it;
// filters run cheapest first and stop at the first rejection per node (as Kubernetes
// does), so per-pod work is O(nodes) plus one pass over placed pods only when the pod or
// placed pods use inter-pod affinity; like kube-scheduler, once enough feasible nodes are
// found (percentageOfNodesToScore, adaptive by default: all nodes below 100, about 42% at
// 1,000) the search stops, starting each decision where the previous one stopped so that
// every node gets its turn; ties between best scores are broken at random.
// Does not: preempt lower-priority pods, or weigh zones.
import type { FitError } from './fit-error.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { Snapshot } from './snapshot.js';
import { filterInterPodAffinity, normalizeMinMax, prepareInterPodAffinity, prepareInterPodAffinityScore, scoreInterPodAffinity } from './plugins/inter-pod-affinity.js';
import { scoreLeastAllocated } from './plugins/least-allocated.js';
import { filterNodeAffinity, normalizeByMax, scoreNodeAffinity } from './plugins/node-affinity.js';
import { filterNodePorts } from './plugins/node-ports.js';
import { filterNodeSchedulable } from './plugins/node-schedulable.js';
import { filterResourcesFit } from './plugins/resources-fit.js';
import { countSiblings, normalizeSpread, prepareSpread } from './plugins/spread.js';
import { countIntolerablePreferNoSchedule, filterTaintToleration, normalizeTaintScores } from './plugins/taint-toleration.js';

/** Score weights (Kubernetes' defaults where it has the same plugin). */
export const WEIGHTS = { taintToleration: 3, nodeAffinity: 2, interPodAffinity: 2, spread: 2, leastAllocated: 1 } as const;

export interface FrameworkOptions {
  /** 1–100; 0 or undefined: adaptive like kube-scheduler (50 - nodes/125, at least 5). */
  percentageOfNodesToScore?: number;
  random?: () => number;
}

export type ScheduleResult =
  | { ok: true; nodeName: string; evaluatedNodes: number; feasibleNodes: number }
  | { ok: false; error: FitError };

const MIN_FEASIBLE_NODES = 100;
const MIN_FEASIBLE_PERCENTAGE = 5;

/** How many feasible nodes to look for among `numAllNodes` (kube-scheduler's rule). */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES || percentage >= 100) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(MIN_FEASIBLE_PERCENTAGE, 50 - Math.floor(numAllNodes / 125));
  const n = Math.floor((numAllNodes * pct) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES);
}

/** Runs every filter on one node; null when it fits, else the reasons of the first rejecting filter. */
export function runFilters(pod: PodInfo, node: NodeInfo, affinity: ReturnType<typeof prepareInterPodAffinity>): string | string[] | null {
  return filterNodeSchedulable(pod, node)
    ?? filterResourcesFit(pod, node)
    ?? filterNodeAffinity(pod, node)
    ?? filterTaintToleration(pod, node)
    ?? filterNodePorts(pod, node)
    ?? filterInterPodAffinity(pod, node, affinity);
}

/** Weighted 0–100 scores of `nodes` for `pod` (same order). */
export function scoreNodes(pod: PodInfo, nodes: readonly NodeInfo[], snap: Snapshot): Float64Array {
  const n = nodes.length;
  const total = new Float64Array(n);
  const part = new Float64Array(n);
  const addPart = (weight: number) => {
    for (let i = 0; i < n; i++) total[i] = (total[i] ?? 0) + weight * (part[i] ?? 0);
  };
  for (let i = 0; i < n; i++) part[i] = scoreLeastAllocated(pod, nodes[i] as NodeInfo);
  addPart(WEIGHTS.leastAllocated);

  let anyTaint = false;
  for (let i = 0; i < n; i++) {
    part[i] = countIntolerablePreferNoSchedule(pod, nodes[i] as NodeInfo);
    if (part[i]) anyTaint = true;
  }
  // Constant parts do not change the ranking; skipping them keeps the common case cheap.
  if (anyTaint) {
    normalizeTaintScores(part);
    addPart(WEIGHTS.taintToleration);
  }
  if (pod.preferredNodeAffinity.length > 0) {
    for (let i = 0; i < n; i++) part[i] = scoreNodeAffinity(pod, nodes[i] as NodeInfo);
    normalizeByMax(part);
    addPart(WEIGHTS.nodeAffinity);
  }
  const spread = prepareSpread(pod, snap);
  if (spread) {
    for (let i = 0; i < n; i++) part[i] = countSiblings(pod, nodes[i] as NodeInfo, spread);
    normalizeSpread(part);
    addPart(WEIGHTS.spread);
  }
  const ipa = prepareInterPodAffinityScore(pod, snap);
  if (ipa) {
    for (let i = 0; i < n; i++) part[i] = scoreInterPodAffinity(nodes[i] as NodeInfo, ipa);
    normalizeMinMax(part);
    addPart(WEIGHTS.interPodAffinity);
  }
  return total;
}

export class Framework {
  private nextStartNodeIndex = 0;
  private readonly random: () => number;

  constructor(private readonly opts: FrameworkOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  schedule(pod: PodInfo, snap: Snapshot): ScheduleResult {
    const all = snap.nodeList;
    const numAll = all.length;
    if (numAll === 0) return { ok: false, error: { numAllNodes: 0, reasons: new Map() } };
    const want = numFeasibleNodesToFind(numAll, this.opts.percentageOfNodesToScore);
    const affinity = prepareInterPodAffinity(pod, snap);
    const feasible: NodeInfo[] = [];
    const reasons = new Map<string, number>();
    let evaluated = 0;
    const start = this.nextStartNodeIndex % numAll;
    for (; evaluated < numAll && feasible.length < want; evaluated++) {
      const node = all[(start + evaluated) % numAll] as NodeInfo;
      const r = runFilters(pod, node, affinity);
      if (r === null) feasible.push(node);
      else if (typeof r === 'string') reasons.set(r, (reasons.get(r) ?? 0) + 1);
      else for (const x of r) reasons.set(x, (reasons.get(x) ?? 0) + 1);
    }
    this.nextStartNodeIndex = (start + evaluated) % numAll;
    if (feasible.length === 0) return { ok: false, error: { numAllNodes: numAll, reasons } };
    if (feasible.length === 1) return { ok: true, nodeName: (feasible[0] as NodeInfo).name, evaluatedNodes: evaluated, feasibleNodes: 1 };
    const scores = scoreNodes(pod, feasible, snap);
    return { ok: true, nodeName: this.selectHost(feasible, scores), evaluatedNodes: evaluated, feasibleNodes: feasible.length };
  }

  /** The highest score; among equals, each is equally likely (reservoir sampling). */
  private selectHost(nodes: readonly NodeInfo[], scores: Float64Array): string {
    let best = 0;
    let bestScore = -Infinity;
    let ties = 0;
    for (let i = 0; i < nodes.length; i++) {
      const s = scores[i] ?? 0;
      if (s > bestScore) {
        bestScore = s;
        best = i;
        ties = 1;
      } else if (s === bestScore) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return (nodes[best] as NodeInfo).name;
  }
}
