// The RBAC state the authorizer decides over: the four kinds, indexed, with aggregated
// ClusterRoles already resolved. `buildRbacState` is pure: same objects, same state.
// Aggregation (a derived view, not a write): a ClusterRole with an aggregationRule has as its
// rules the union of the effective rules of every other ClusterRole whose labels match one of
// its clusterRoleSelectors, resolved transitively (admin ⊇ edit ⊇ view), cycles cut; its own
// `rules` field is ignored, as Kubernetes' aggregation controller overwrites it. Guarantees:
// bindings are found by subject (user name, group, service account) without scanning all of
// them. Does not: check that a roleRef exists (a binding to a missing role grants nothing).
import { selectorMatches } from '../../api/validation/index.js';
import type { BindingObject, PolicyRule, RoleObject, Subject } from './types.js';

export interface IndexedBinding {
  binding: BindingObject;
  /** 'RoleBinding' or 'ClusterRoleBinding'. */
  kind: string;
}

/** Bindings by the subject keys they name: `u:<name>`, `g:<group>` (service accounts become users). */
type SubjectIndex = Map<string, IndexedBinding[]>;

export interface RbacState {
  clusterRoles: Map<string, RoleObject>;
  /** `namespace/name` → Role. */
  roles: Map<string, RoleObject>;
  /** Effective rules of every ClusterRole (aggregation resolved). */
  clusterRoleRules: Map<string, PolicyRule[]>;
  clusterBindings: SubjectIndex;
  /** namespace → subject index of that namespace's RoleBindings. */
  roleBindings: Map<string, SubjectIndex>;
  /** Every binding, for reviews that list (SelfSubjectRulesReview) and escalation checks. */
  all: { clusterRoleBindings: BindingObject[]; roleBindings: BindingObject[] };
}

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** The index key a subject is found under; undefined for a subject kind RBAC does not know. */
export function subjectKey(s: Subject, bindingNamespace: string | undefined): string | undefined {
  switch (s.kind) {
    case 'User': return `u:${s.name}`;
    case 'Group': return `g:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace || '';
      return ns === '' ? undefined : `u:${SERVICE_ACCOUNT_PREFIX}${ns}:${s.name}`;
    }
    default: return undefined;
  }
}

function addTo(index: SubjectIndex, b: BindingObject, kind: string): void {
  const seen = new Set<string>();
  for (const s of b.subjects) {
    const key = subjectKey(s, b.namespace);
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    let list = index.get(key);
    if (!list) index.set(key, (list = []));
    list.push({ binding: b, kind });
  }
}

function ruleKey(r: PolicyRule): string {
  return JSON.stringify([r.verbs, r.apiGroups, r.resources, r.resourceNames, r.nonResourceURLs]);
}

/** Effective rules of every ClusterRole, aggregation resolved (pure). */
export function aggregateClusterRoles(clusterRoles: Map<string, RoleObject>): Map<string, PolicyRule[]> {
  const out = new Map<string, PolicyRule[]>();
  const visiting = new Set<string>();
  const resolve = (name: string): PolicyRule[] => {
    const done = out.get(name);
    if (done) return done;
    const role = clusterRoles.get(name);
    if (!role) return [];
    if (!role.aggregationSelectors) {
      out.set(name, role.rules);
      return role.rules;
    }
    if (visiting.has(name)) return [];
    visiting.add(name);
    const rules: PolicyRule[] = [];
    const keys = new Set<string>();
    for (const other of [...clusterRoles.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (other.name === name) continue;
      if (!role.aggregationSelectors.some((sel) => selectorMatches(sel, other.labels))) continue;
      for (const r of resolve(other.name)) {
        const k = ruleKey(r);
        if (!keys.has(k)) { keys.add(k); rules.push(r); }
      }
    }
    visiting.delete(name);
    out.set(name, rules);
    return rules;
  };
  for (const name of clusterRoles.keys()) resolve(name);
  return out;
}

export function buildRbacState(objs: { roles: RoleObject[]; clusterRoles: RoleObject[]; roleBindings: BindingObject[]; clusterRoleBindings: BindingObject[] }): RbacState {
  const clusterRoles = new Map(objs.clusterRoles.map((r) => [r.name, r]));
  const roles = new Map(objs.roles.map((r) => [`${r.namespace ?? ''}/${r.name}`, r]));
  const clusterBindings: SubjectIndex = new Map();
  for (const b of objs.clusterRoleBindings) addTo(clusterBindings, b, 'ClusterRoleBinding');
  const roleBindings = new Map<string, SubjectIndex>();
  for (const b of objs.roleBindings) {
    const ns = b.namespace ?? '';
    let idx = roleBindings.get(ns);
    if (!idx) roleBindings.set(ns, (idx = new Map()));
    addTo(idx, b, 'RoleBinding');
  }
  return {
    clusterRoles, roles, clusterRoleRules: aggregateClusterRoles(clusterRoles), clusterBindings, roleBindings,
    all: { clusterRoleBindings: objs.clusterRoleBindings, roleBindings: objs.roleBindings },
  };
}

/** Rules a binding grants (its role's effective rules; none if the role is missing). */
export function rulesOfBinding(state: RbacState, b: BindingObject): PolicyRule[] {
  if (b.roleRef.kind === 'ClusterRole') return state.clusterRoleRules.get(b.roleRef.name) ?? [];
  if (b.roleRef.kind === 'Role' && b.namespace !== undefined) return state.roles.get(`${b.namespace}/${b.roleRef.name}`)?.rules ?? [];
  return [];
}
