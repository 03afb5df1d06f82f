// Admission of RBAC writes (escalation prevention, ./escalation.ts) for one request: returns the
// check the resource handler runs on the object a create, update or patch of a Role,
// ClusterRole, RoleBinding or ClusterRoleBinding would write (after the patch is applied), or
// undefined for any other request. Refusals are Kubernetes' 403 text. Guarantees: a requester
// with `escalate` (roles) or `bind` (bindings) on the object is not checked further, as in
// Kubernetes. Does not: look at deletes (removing a grant never escalates).
import type { KubeObject } from '../../api/object.js';
import { TriremeError } from '../../errors.js';
import { fixedRulesFor, type AuthzAttributes, type Decision, type UserInfo } from '../auth.js';
import type { ResourceRequest } from '../request-info.js';
import { rulesFor } from './authorizer.js';
import { coveringGaps, describeRules } from './escalation.js';
import { aggregateClusterRoles } from '../../api/rbac/aggregation.js';
import { rulesOfBinding, type RbacState } from './state.js';
import { toBinding, toRole, type PolicyRule } from '../../api/rbac/types.js';

const GROUP = 'rbac.authorization.k8s.io';
const WRITES = new Set(['create', 'update', 'patch']);

export interface GuardDeps {
  authorize(user: UserInfo, attrs: AuthzAttributes): Decision;
  rbac(): RbacState;
}

function held(deps: GuardDeps, user: UserInfo, namespace: string | undefined): PolicyRule[] {
  return [...fixedRulesFor(user, namespace).rules, ...rulesFor(deps.rbac(), user, namespace)];
}

function refuse(resource: string, name: string, user: UserInfo, gaps: PolicyRule[]): TriremeError {
  return new TriremeError('Forbidden', `${resource}.${GROUP} ${JSON.stringify(name)} is forbidden: user ${JSON.stringify(user.name)} (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${describeRules(gaps)}`, { context: { name, group: GROUP, kind: resource } });
}

export function rbacAdmission(deps: GuardDeps, user: UserInfo, ri: ResourceRequest): ((obj: KubeObject) => void) | undefined {
  if (ri.group !== GROUP || !WRITES.has(ri.verb) || ri.subresource !== undefined) return undefined;
  const ns = ri.namespace;
  switch (ri.resource) {
    case 'roles':
    case 'clusterroles':
      return (obj) => {
        const name = obj.metadata?.name ?? ri.name ?? '';
        if (deps.authorize(user, { verb: 'escalate', group: GROUP, resource: ri.resource, ...(ns ? { namespace: ns } : {}), name }).allowed) return;
        const role = toRole(obj);
        // An aggregated ClusterRole grants what it aggregates: those rules are what is checked.
        let wanted = role.rules;
        if (role.aggregationSelectors) {
          const roles = new Map(deps.rbac().clusterRoles).set(role.name, role);
          wanted = aggregateClusterRoles(roles).get(role.name) ?? [];
        }
        const gaps = coveringGaps(held(deps, user, ns), wanted);
        if (gaps.length > 0) throw refuse(ri.resource, name, user, gaps);
      };
    case 'rolebindings':
    case 'clusterrolebindings':
      return (obj) => {
        const name = obj.metadata?.name ?? ri.name ?? '';
        const b = toBinding({ ...obj, metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) } });
        const refResource = b.roleRef.kind === 'Role' ? 'roles' : 'clusterroles';
        if (deps.authorize(user, { verb: 'bind', group: GROUP, resource: refResource, ...(b.roleRef.kind === 'Role' && ns ? { namespace: ns } : {}), name: b.roleRef.name }).allowed) return;
        const gaps = coveringGaps(held(deps, user, ns), rulesOfBinding(deps.rbac(), b));
        if (gaps.length > 0) throw refuse(ri.resource, name, user, gaps);
      };
    default:
      return undefined;
  }
}
