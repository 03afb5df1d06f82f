// Validation of rbac.authorization.k8s.io/v1 objects, with Kubernetes' rules and wording
// (pkg/apis/rbac/validation): PolicyRules need verbs, and either apiGroups + resources or
// nonResourceURLs (never both, and never nonResourceURLs in a namespaced Role); a binding's
// roleRef names a Role (RoleBinding only) or ClusterRole of this group, and cannot change; a
// subject is a User, Group or ServiceAccount with a name (and, for a ServiceAccount in a
// ClusterRoleBinding, a namespace). Pure. Does not: check that the role or the subjects exist
// (Kubernetes does not either).
import type { FieldCause } from '../../errors.js';
import { asArr, asObj, asStr, jsonEqual, objList, type Obj } from './access.js';
import { child, index, invalid, notSupported, required } from './field.js';
import { validateLabelSelector } from './meta.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function strList(v: unknown): string[] {
  return (asArr(v) ?? []).filter((x): x is string => typeof x === 'string');
}

function validateRule(rule: Obj, path: string, namespaced: boolean): FieldCause[] {
  const causes: FieldCause[] = [];
  const verbs = strList(rule.verbs);
  const groups = strList(rule.apiGroups);
  const resources = strList(rule.resources);
  const urls = strList(rule.nonResourceURLs);
  if (verbs.length === 0) causes.push(required(child(path, 'verbs'), 'verbs must contain at least one value'));
  if (urls.length > 0) {
    if (namespaced) causes.push(invalid(child(path, 'nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (groups.length > 0 || resources.length > 0) {
      causes.push(invalid(child(path, 'nonResourceURLs'), urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return causes;
  }
  if (groups.length === 0) causes.push(required(child(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (resources.length === 0) causes.push(required(child(path, 'resources'), 'resource rules must supply at least one resource'));
  return causes;
}

function validateRules(obj: Obj, namespaced: boolean): FieldCause[] {
  return objList(obj.rules).flatMap((r, i) => validateRule(r, index('rules', i), namespaced));
}

export function validateRole(obj: Obj): FieldCause[] {
  return validateRules(obj, true);
}

export function validateClusterRole(obj: Obj): FieldCause[] {
  const causes = validateRules(obj, false);
  const agg = asObj(obj.aggregationRule);
  if (agg) {
    const sels = objList(agg.clusterRoleSelectors);
    if (sels.length === 0 && obj.aggregationRule !== null) causes.push(required(child('aggregationRule', 'clusterRoleSelectors')));
    sels.forEach((s, i) => causes.push(...validateLabelSelector(s, index(child('aggregationRule', 'clusterRoleSelectors'), i))));
  }
  return causes;
}

function validateRoleRef(ref: Obj | undefined, allowRole: boolean): FieldCause[] {
  const causes: FieldCause[] = [];
  const r = ref ?? {};
  const apiGroup = asStr(r.apiGroup) ?? '';
  if (apiGroup !== RBAC_GROUP) causes.push(notSupported(child('roleRef', 'apiGroup'), apiGroup, [RBAC_GROUP]));
  const kind = asStr(r.kind) ?? '';
  const kinds = allowRole ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(kind)) causes.push(notSupported(child('roleRef', 'kind'), kind, kinds));
  const name = asStr(r.name) ?? '';
  if (name === '') causes.push(required(child('roleRef', 'name')));
  return causes;
}

function validateSubject(s: Obj, path: string, clusterBinding: boolean): FieldCause[] {
  const causes: FieldCause[] = [];
  const kind = asStr(s.kind) ?? '';
  const name = asStr(s.name) ?? '';
  const apiGroup = asStr(s.apiGroup) ?? '';
  if (name === '') causes.push(required(child(path, 'name')));
  switch (kind) {
    case 'ServiceAccount':
      if (apiGroup !== '') causes.push(notSupported(child(path, 'apiGroup'), apiGroup, ['']));
      if (clusterBinding && (asStr(s.namespace) ?? '') === '') causes.push(required(child(path, 'namespace')));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) causes.push(notSupported(child(path, 'apiGroup'), apiGroup, [RBAC_GROUP]));
      break;
    default:
      causes.push(notSupported(child(path, 'kind'), kind, ['ServiceAccount', 'User', 'Group']));
  }
  return causes;
}

function validateBinding(obj: Obj, clusterBinding: boolean): FieldCause[] {
  const causes = validateRoleRef(asObj(obj.roleRef), !clusterBinding);
  objList(obj.subjects).forEach((s, i) => causes.push(...validateSubject(s, index('subjects', i), clusterBinding)));
  return causes;
}

export function validateRoleBinding(obj: Obj): FieldCause[] {
  return validateBinding(obj, false);
}

export function validateClusterRoleBinding(obj: Obj): FieldCause[] {
  return validateBinding(obj, true);
}

/** A binding's roleRef is immutable: a changed one is refused, as Kubernetes does. */
export function validateBindingUpdate(obj: Obj, old: Obj): FieldCause[] {
  if (jsonEqual(obj.roleRef, old.roleRef)) return [];
  return [invalid('roleRef', obj.roleRef ?? null, 'cannot change roleRef')];
}
