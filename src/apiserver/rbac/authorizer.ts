// The RBAC authorizer: a pure function of the RBAC state, the user and the request's attributes.
// Kubernetes' semantics: ClusterRoleBindings grant their role everywhere (any namespace, cluster
// scope, non-resource URLs); RoleBindings grant only inside their own namespace and never
// cluster-scoped resources or URLs; a RoleBinding may reference a ClusterRole (its rules, in that
// namespace). Only allow rules exist; no match is a denial with no reason (the next authorizer
// in the chain, or the 403, speaks). The allow reason is Kubernetes' text:
// `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`.
// Does not: know node names (the node authorizer in ../auth.ts does).
import type { UserInfo } from '../auth.js';
import { ruleAllows, type Attributes } from './rules.js';
import { rulesOfBinding, type IndexedBinding, type RbacState } from './state.js';
import type { BindingObject, PolicyRule, Subject } from '../../api/rbac/types.js';
import { subjectKey } from './state.js';

export interface RbacDecision {
  allowed: boolean;
  reason: string;
}

function keysOf(user: UserInfo): string[] {
  return [`u:${user.name}`, ...user.groups.map((g) => `g:${g}`)];
}

function describeSubject(s: Subject, bindingNamespace: string | undefined): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace || ''}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

function describe(ib: IndexedBinding, subject: Subject): string {
  const b = ib.binding;
  const name = ib.kind === 'RoleBinding' ? `${b.name}/${b.namespace ?? ''}` : b.name;
  return `${ib.kind} ${JSON.stringify(name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, b.namespace)}`;
}

/** The subject of `b` that made it apply to `user` (for the reason text). */
function matchingSubject(b: BindingObject, keys: Set<string>): Subject | undefined {
  return b.subjects.find((s) => { const k = subjectKey(s, b.namespace); return k !== undefined && keys.has(k); });
}

/** Every binding that applies to `user` for a request in `namespace` (undefined: cluster scope). */
export function* bindingsFor(state: RbacState, user: UserInfo, namespace: string | undefined): Generator<IndexedBinding> {
  const keys = keysOf(user);
  for (const k of keys) yield* state.clusterBindings.get(k) ?? [];
  if (namespace === undefined || namespace === '') return;
  const idx = state.roleBindings.get(namespace);
  if (!idx) return;
  for (const k of keys) yield* idx.get(k) ?? [];
}

export function authorize(state: RbacState, user: UserInfo, attrs: Attributes): RbacDecision {
  // RoleBindings apply to namespaced resource requests only.
  const ns = attrs.resource !== '' ? attrs.namespace : undefined;
  for (const ib of bindingsFor(state, user, ns)) {
    const rules: PolicyRule[] = rulesOfBinding(state, ib.binding);
    if (rules.some((r) => ruleAllows(r, attrs))) {
      const subject = matchingSubject(ib.binding, new Set(keysOf(user)));
      return { allowed: true, reason: `RBAC: allowed by ${describe(ib, subject ?? { kind: 'User', name: user.name })}` };
    }
  }
  return { allowed: false, reason: '' };
}

/** Every rule `user` holds in `namespace` (cluster-wide ones included), for SelfSubjectRulesReview and escalation checks. */
export function rulesFor(state: RbacState, user: UserInfo, namespace: string | undefined): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const ib of bindingsFor(state, user, namespace)) out.push(...rulesOfBinding(state, ib.binding));
  return out;
}
