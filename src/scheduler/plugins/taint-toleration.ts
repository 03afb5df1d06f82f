// Filter and score for taints: NoSchedule and NoExecute taints must be tolerated;
// PreferNoSchedule taints only lower the score (fewer untolerated → higher).
// Guarantees: pure; toleration matching follows Kubernetes (empty key + Exists tolerates
// everything, empty effect matches every effect, operator defaults to Equal).
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

export function toleratesTaint(tolerations: readonly Toleration[], taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  for (const t of tolerations) {
    if (t.effect && t.effect !== taint.effect) continue;
    if (t.key && t.key !== taint.key) continue;
    const op = t.operator ?? 'Equal';
    if (op === 'Exists') {
      // An empty key with Exists tolerates every taint; a key with Exists, any value.
      return true;
    }
    if ((t.value ?? '') === (taint.value ?? '')) return true;
  }
  return false;
}

export function filterTaintToleration(pod: PodInfo, node: NodeInfo): string | null {
  for (const taint of node.taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!toleratesTaint(pod.tolerations, taint)) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  }
  return null;
}

/** Raw score: the number of PreferNoSchedule taints the pod does not tolerate (lower is better). */
export function countIntolerablePreferNoSchedule(pod: PodInfo, node: NodeInfo): number {
  let n = 0;
  for (const taint of node.taints) {
    if (taint.effect === 'PreferNoSchedule' && !toleratesTaint(pod.tolerations, taint)) n++;
  }
  return n;
}

/** Normalizes intolerable counts in place to 0–100: none → 100, the most → 0. */
export function normalizeTaintScores(scores: Float64Array): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? 100 : 100 - (100 * (scores[i] ?? 0)) / max;
}
