// The RBAC state the authorizer decides over: the four kinds, indexed, with aggregated
// ClusterRoles already resolved. `buildRbacState` is pure: same objects, same state.
// Aggregation is resolved here, not read from the stored `rules` (api/rbac/aggregation.ts), so
// the authorizer does not wait for the aggregation controller to write them. Guarantees:
// bindings are found by subject (user name, group, service account) without scanning all of
// them. Does not: check that a roleRef exists (a binding to a missing role grants nothing).
import { aggregateClusterRoles } from '../../api/rbac/aggregation.js';
import type { BindingObject, PolicyRule, RoleObject, Subject } from '../../api/rbac/types.js';

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
