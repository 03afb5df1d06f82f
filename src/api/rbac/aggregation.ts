// ClusterRole aggregation, the one definition both the authorizer (apiserver/rbac/state.ts) and
// the aggregation controller (controllers/clusterrole-aggregation.ts) use: a ClusterRole with an
// aggregationRule has as its rules the union of the rules of every ClusterRole whose labels match
// one of its clusterRoleSelectors, resolved transitively (admin ⊇ edit ⊇ view); its own `rules`
// field is ignored, as Kubernetes' aggregation controller overwrites it.
// Guarantees: pure; same roles, same rules in the same order; cycles terminate. Does not: check
// that selectors are valid (the registry refused invalid ones).
import { selectorMatches } from '../validation/index.js';
import type { PolicyRule, RoleObject } from './types.js';

function ruleKey(r: PolicyRule): string {
  return JSON.stringify([r.verbs, r.apiGroups, r.resources, r.resourceNames, r.nonResourceURLs]);
}

/**
 * Effective rules of every ClusterRole, aggregation resolved (pure): an aggregated role has the
 * rules of every plain role reachable through its selectors, through aggregated roles in between
 * (whose own `rules` count for nothing), each once, depth first in role-name order. Reachability,
 * not memoised partial results, so a cycle of aggregated roles gives each member the same union.
 */
export function aggregateClusterRoles(clusterRoles: Map<string, RoleObject>): Map<string, PolicyRule[]> {
  const sorted = [...clusterRoles.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const matched = new Map<string, RoleObject[]>();
  for (const role of sorted) {
    const sels = role.aggregationSelectors;
    if (sels) matched.set(role.name, sorted.filter((o) => o.name !== role.name && sels.some((sel) => selectorMatches(sel, o.labels))));
  }
  const out = new Map<string, PolicyRule[]>();
  for (const role of sorted) {
    if (!role.aggregationSelectors) {
      out.set(role.name, role.rules);
      continue;
    }
    const rules: PolicyRule[] = [];
    const keys = new Set<string>();
    const seen = new Set<string>([role.name]);
    const visit = (r: RoleObject): void => {
      if (seen.has(r.name)) return;
      seen.add(r.name);
      const next = matched.get(r.name);
      if (next) {
        for (const n of next) visit(n);
        return;
      }
      for (const rule of r.rules) {
        const k = ruleKey(rule);
        if (!keys.has(k)) { keys.add(k); rules.push(rule); }
      }
    };
    for (const n of matched.get(role.name) ?? []) visit(n);
    out.set(role.name, rules);
  }
  return out;
}
