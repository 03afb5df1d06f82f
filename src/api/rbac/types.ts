// Plain-data shapes of the RBAC objects the authorizer reads (rbac.authorization.k8s.io/v1),
// narrowed from stored JSON by `toPolicyRule` & co. Guarantees: pure, total (bad fields read as
// empty). Does not validate (the registry refused invalid objects before they were stored).
import type { KubeObject } from '../object.js';
import { asArr, asObj, asStr, objList } from '../validation/access.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  kind: 'Role' | 'ClusterRole' | string;
  name: string;
}

export interface RoleObject {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
  /** ClusterRoles only: label selectors of the roles whose rules this one aggregates. */
  aggregationSelectors?: unknown[];
}

export interface BindingObject {
  name: string;
  namespace?: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

function strs(v: unknown): string[] {
  return (asArr(v) ?? []).filter((x): x is string => typeof x === 'string');
}

export function toPolicyRule(v: unknown): PolicyRule {
  const r = asObj(v) ?? {};
  return { verbs: strs(r.verbs), apiGroups: strs(r.apiGroups), resources: strs(r.resources), resourceNames: strs(r.resourceNames), nonResourceURLs: strs(r.nonResourceURLs) };
}

export function toRole(obj: KubeObject): RoleObject {
  const o = obj as Record<string, unknown>;
  const agg = asObj(o.aggregationRule);
  const labels: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj.metadata?.labels ?? {})) if (typeof x === 'string') labels[k] = x;
  return {
    name: obj.metadata?.name ?? '',
    ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
    labels,
    rules: (asArr(o.rules) ?? []).map(toPolicyRule),
    ...(agg ? { aggregationSelectors: asArr(agg.clusterRoleSelectors) ?? [] } : {}),
  };
}

export function toBinding(obj: KubeObject): BindingObject {
  const o = obj as Record<string, unknown>;
  const ref = asObj(o.roleRef) ?? {};
  return {
    name: obj.metadata?.name ?? '',
    ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
    roleRef: { kind: asStr(ref.kind) ?? '', name: asStr(ref.name) ?? '' },
    subjects: objList(o.subjects).map((s) => ({
      kind: asStr(s.kind) ?? '', name: asStr(s.name) ?? '',
      ...(asStr(s.namespace) ? { namespace: asStr(s.namespace) } : {}),
      ...(asStr(s.apiGroup) !== undefined ? { apiGroup: asStr(s.apiGroup) } : {}),
    })),
  };
}
