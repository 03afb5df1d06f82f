// The audit policy (pure): an audit.k8s.io/v1 Policy (YAML or JSON) parsed into rules, and the
// level one request is recorded at.
// Guarantees:
// - rules match as Kubernetes' policy checker does: `users`, `userGroups`, `verbs` when given
//   must contain the request's; `namespaces` or `resources` given: only resource requests match
//   (namespace "" is a cluster-scoped request; resources by group, with `*`, `resource/*`,
//   `*/subresource`, `resource/subresource` and `resourceNames`); `nonResourceURLs` given: only
//   non-resource requests match (exact, or a prefix ending in `*`);
// - the first rule that matches decides; no rule (or no policy) means Metadata;
// - Secrets (core `secrets`), service-account tokens (`serviceaccounts/token`), TokenReviews and
//   every non-resource path are capped at Metadata whatever the policy says: their bodies carry
//   credentials and are never recorded;
// - a policy with an unknown level, a rule that is not an object, or a field of the wrong type is
//   refused with a PolicyError naming the rule.
// Does not: honour `omitStages` or `omitManagedFields` (one stage is written, see audit/event.ts).
import { parse } from 'yaml';

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type AuditLevel = (typeof LEVELS)[number];

export interface GroupResources {
  group: string;
  resources: string[];
  resourceNames: string[];
}

export interface PolicyRule {
  level: AuditLevel;
  users: string[];
  userGroups: string[];
  verbs: string[];
  namespaces: string[];
  resources: GroupResources[];
  nonResourceURLs: string[];
}

export interface AuditPolicy {
  rules: PolicyRule[];
}

/** What a request is, for the policy (the API server's request attributes). */
export interface AuditAttributes {
  user: string;
  groups: string[];
  verb: string;
  /** Absent for a non-resource request. */
  resource?: { group: string; resource: string; subresource?: string; namespace?: string; name?: string };
  /** The path of a non-resource request. */
  path?: string;
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

export const DEFAULT_POLICY: AuditPolicy = { rules: [] };

function strings(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new PolicyError(`${where} must be a list of strings`);
  return v as string[];
}

export function parsePolicy(text: string): AuditPolicy {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new PolicyError(`not YAML: ${(e as Error).message}`);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  if (d.kind !== 'Policy') throw new PolicyError(`kind must be Policy, got ${JSON.stringify(d.kind)}`);
  if (typeof d.apiVersion !== 'string' || !d.apiVersion.startsWith('audit.k8s.io/')) throw new PolicyError(`apiVersion must be audit.k8s.io/v1, got ${JSON.stringify(d.apiVersion)}`);
  if (d.rules !== undefined && !Array.isArray(d.rules)) throw new PolicyError('rules must be a list');
  const rules = ((d.rules ?? []) as unknown[]).map((r, i): PolicyRule => {
    const where = `rules[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new PolicyError(`${where} is not an object`);
    const rule = r as Record<string, unknown>;
    if (!LEVELS.includes(rule.level as AuditLevel)) throw new PolicyError(`${where}.level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(rule.level)}`);
    if (rule.resources !== undefined && !Array.isArray(rule.resources)) throw new PolicyError(`${where}.resources must be a list`);
    const resources = ((rule.resources ?? []) as unknown[]).map((g, j): GroupResources => {
      const gw = `${where}.resources[${j}]`;
      if (typeof g !== 'object' || g === null) throw new PolicyError(`${gw} is not an object`);
      const gr = g as Record<string, unknown>;
      if (gr.group !== undefined && typeof gr.group !== 'string') throw new PolicyError(`${gw}.group must be a string`);
      return { group: (gr.group as string | undefined) ?? '', resources: strings(gr.resources, `${gw}.resources`), resourceNames: strings(gr.resourceNames, `${gw}.resourceNames`) };
    });
    return {
      level: rule.level as AuditLevel, users: strings(rule.users, `${where}.users`), userGroups: strings(rule.userGroups, `${where}.userGroups`),
      verbs: strings(rule.verbs, `${where}.verbs`), namespaces: strings(rule.namespaces, `${where}.namespaces`), resources,
      nonResourceURLs: strings(rule.nonResourceURLs, `${where}.nonResourceURLs`),
    };
  });
  return { rules };
}

function resourceMatches(rule: PolicyRule, r: NonNullable<AuditAttributes['resource']>): boolean {
  if (rule.namespaces.length > 0 && !rule.namespaces.includes(r.namespace ?? '')) return false;
  if (rule.resources.length === 0) return true;
  const combined = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  for (const gr of rule.resources) {
    if (gr.group !== r.group) continue;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(r.name ?? '')) continue;
    for (const res of gr.resources) {
      if (res === combined || res === '*') return true;
      if (r.subresource && res.startsWith('*/') && res.slice(2) === r.subresource) return true;
      if (res.endsWith('/*') && res.slice(0, -2) === r.resource) return true;
    }
  }
  return false;
}

function nonResourceMatches(rule: PolicyRule, path: string): boolean {
  return rule.nonResourceURLs.some((u) => u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

export function ruleMatches(rule: PolicyRule, a: AuditAttributes): boolean {
  if (rule.users.length > 0 && !rule.users.includes(a.user)) return false;
  if (rule.userGroups.length > 0 && !a.groups.some((g) => rule.userGroups.includes(g))) return false;
  if (rule.verbs.length > 0 && !rule.verbs.includes(a.verb)) return false;
  if (rule.namespaces.length > 0 || rule.resources.length > 0) return a.resource !== undefined && resourceMatches(rule, a.resource);
  if (rule.nonResourceURLs.length > 0) return a.resource === undefined && a.path !== undefined && nonResourceMatches(rule, a.path);
  return true;
}

/** Whose bodies are never recorded: they carry credentials. */
export function bodiesForbidden(a: AuditAttributes): boolean {
  const r = a.resource;
  if (!r) return true;
  if (r.group === '' && r.resource === 'secrets') return true;
  if (r.group === '' && r.resource === 'serviceaccounts' && r.subresource === 'token') return true;
  return r.group === 'authentication.k8s.io' && r.resource === 'tokenreviews';
}

/** The level the request is recorded at: the first matching rule's (Metadata if none), capped for credentials. */
export function levelFor(policy: AuditPolicy, a: AuditAttributes): AuditLevel {
  const level = policy.rules.find((r) => ruleMatches(r, a))?.level ?? 'Metadata';
  if (level !== 'None' && level !== 'Metadata' && bodiesForbidden(a)) return 'Metadata';
  return level;
}

/** Whether any rule can ask for response bodies (the handler then keeps them, up to a bound). */
export function wantsResponses(policy: AuditPolicy): boolean {
  return policy.rules.some((r) => r.level === 'RequestResponse');
}
