// Whether a DaemonSet's pod belongs on a node (pure), as Kubernetes' NodeShouldRunDaemonPod:
// the pod's nodeSelector, its required node affinity (matchExpressions on labels,
// matchFields on metadata.name) and the node's NoSchedule/NoExecute taints against the pod's
// tolerations — including the tolerations Kubernetes adds to every daemon pod.
// Guarantees: `shouldRun` false also for untolerated NoSchedule taints, while
// `shouldContinueRunning` stays true for them (a running daemon pod is not evicted by a new
// NoSchedule taint); PreferNoSchedule is ignored. Does not: check resources (the scheduler does).
import type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { NodeObj, PodTemplateSpec } from '../common/types.js';

/** The tolerations Kubernetes' daemon controller adds (AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** Template tolerations plus the daemon ones not already present (same key and effect). */
export function withDaemonTolerations(existing: readonly Toleration[] | undefined, hostNetwork: boolean): Toleration[] {
  const out = [...(existing ?? [])];
  for (const t of daemonTolerations(hostNetwork)) {
    if (!out.some((e) => e.key === t.key && e.effect === t.effect)) out.push(t);
  }
  return out;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && vals.includes(value);
    case 'NotIn': return value === undefined || !vals.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(vals[0] ?? '')) return false;
      return r.operator === 'Gt' ? Number(value) > Number(vals[0]) : Number(value) < Number(vals[0]);
    }
    default: return false;
  }
}

/** A term matches when all its requirements hold; an empty term matches nothing (as in Kubernetes). */
export function termMatches(term: NodeSelectorTerm, node: NodeObj): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return exprs.every((r) => requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined))
    && fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.metadata?.name));
}

export interface Eligibility {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

export function nodeEligibility(node: NodeObj, template: PodTemplateSpec | undefined): Eligibility {
  const spec = template?.spec;
  const labels = node.metadata?.labels ?? {};
  const no = { shouldRun: false, shouldContinueRunning: false };
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return no;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !(required.nodeSelectorTerms ?? []).some((t) => termMatches(t, node))) return no;
  const tolerations = withDaemonTolerations(spec?.tolerations, spec?.hostNetwork === true);
  let shouldRun = true;
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (tolerations.some((t) => tolerates(t, taint))) continue;
    if (taint.effect === 'NoExecute') return no;
    shouldRun = false;
  }
  return { shouldRun, shouldContinueRunning: true };
}
