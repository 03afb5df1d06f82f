// Does one RBAC PolicyRule cover one request? Kubernetes' rules (pkg/apis/rbac/v1/evaluation_helpers.go):
// `*` matches any verb, group, resource or URL; a resource `pods/log` names that subresource only
// (`pods` does not cover it), `*/log` the subresource of any resource; resourceNames, when
// present, require the request to name one of them (so list and create, which name nothing, do
// not match); a nonResourceURL ending in `*` is a prefix. Pure.
import type { PolicyRule } from '../../api/rbac/types.js';

/** What authorization looks at in a request. `verb`: resource verbs (get, list, watch, create, update, patch, delete, deletecollection), or for non-resource requests the lowercase HTTP method (get for GET and HEAD). `resource`: empty for a non-resource request; then `path` is what is checked. */
export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

export function isResourceRequest(a: Attributes): boolean {
  return a.resource !== '';
}

function has(list: readonly string[], v: string): boolean {
  return list.includes('*') || list.includes(v);
}

export function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!isResourceRequest(a)) return a.path !== undefined && nonResourceURLMatches(rule, a.path);
  if (!has(rule.apiGroups, a.group)) return false;
  if (!resourceMatches(rule, a.resource, a.subresource)) return false;
  if (rule.resourceNames.length === 0) return true;
  return a.name !== undefined && a.name !== '' && rule.resourceNames.includes(a.name);
}
