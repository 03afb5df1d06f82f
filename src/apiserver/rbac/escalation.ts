// Escalation prevention, as Kubernetes' RBAC storage does it: a Role/ClusterRole may be written
// only with rules the requester already holds (in that namespace, or cluster-wide for a
// ClusterRole) unless they have `escalate` on it; a binding may be written only to a role all of
// whose rules the requester holds unless they have `bind` on that role. `coveringGaps` is pure:
// it returns the requested rules (broken down into single verb/group/resource/name or
// verb/URL) that no held rule covers. Does not: look at anything but rules (no conditions).
import type { PolicyRule } from '../../api/rbac/types.js';

function covers(list: readonly string[], v: string): boolean {
  return list.includes('*') || list.includes(v);
}

function resourceCovered(held: readonly string[], r: string): boolean {
  if (held.includes('*') || held.includes(r)) return true;
  const slash = r.indexOf('/');
  return slash > 0 && held.includes(`*${r.slice(slash)}`);
}

function urlCovered(held: readonly string[], u: string): boolean {
  for (const h of held) {
    if (h === '*' || h === u) return true;
    if (h.endsWith('*') && u.startsWith(h.slice(0, -1))) return true;
  }
  return false;
}

function atomic(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs) {
    if (rule.nonResourceURLs.length > 0) {
      for (const u of rule.nonResourceURLs) out.push({ verbs: [verb], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: [u] });
      continue;
    }
    for (const g of rule.apiGroups) {
      for (const r of rule.resources) {
        if (rule.resourceNames.length === 0) out.push({ verbs: [verb], apiGroups: [g], resources: [r], resourceNames: [], nonResourceURLs: [] });
        for (const n of rule.resourceNames) out.push({ verbs: [verb], apiGroups: [g], resources: [r], resourceNames: [n], nonResourceURLs: [] });
      }
    }
  }
  return out;
}

function heldCovers(h: PolicyRule, a: PolicyRule): boolean {
  const verb = a.verbs[0]!;
  if (!covers(h.verbs, verb)) return false;
  if (a.nonResourceURLs.length > 0) return urlCovered(h.nonResourceURLs, a.nonResourceURLs[0]!);
  if (!covers(h.apiGroups, a.apiGroups[0]!) || !resourceCovered(h.resources, a.resources[0]!)) return false;
  if (h.resourceNames.length === 0) return true;
  return a.resourceNames.length === 1 && h.resourceNames.includes(a.resourceNames[0]!);
}

/** Requested rules (atomic) that `held` does not cover; empty means no escalation. */
export function coveringGaps(held: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const gaps: PolicyRule[] = [];
  for (const rule of requested) {
    for (const a of atomic(rule)) if (!held.some((h) => heldCovers(h, a))) gaps.push(a);
  }
  return gaps;
}

/** Kubernetes' rendering of missing rules in the Forbidden message. */
export function describeRules(rules: readonly PolicyRule[]): string {
  return rules.map((r) => r.nonResourceURLs.length > 0
    ? `{NonResourceURLs:${JSON.stringify(r.nonResourceURLs)}, Verbs:${JSON.stringify(r.verbs)}}`
    : `{APIGroups:${JSON.stringify(r.apiGroups)}, Resources:${JSON.stringify(r.resources)}${r.resourceNames.length ? `, ResourceNames:${JSON.stringify(r.resourceNames)}` : ''}, Verbs:${JSON.stringify(r.verbs)}}`).join('\n');
}
