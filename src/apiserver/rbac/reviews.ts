// The review endpoints, answered from the authorizer chain, never stored (as Kubernetes):
// authorization.k8s.io/v1 SelfSubjectAccessReview (may *I* do this?), SubjectAccessReview (may
// this user do it? creating one needs RBAC's `create` on subjectaccessreviews),
// SelfSubjectRulesReview (what may I do in this namespace?) and authentication.k8s.io/v1
// SelfSubjectReview (who am I?, `kubectl auth whoami`). Guarantees: the status says what the
// same chain decides for a real request. Does not: answer LocalSubjectAccessReview.
import type { KubeObject } from '../../api/object.js';
import { asObj, asStr, asArr } from '../../api/validation/access.js';
import { TriremeError } from '../../errors.js';
import { fixedRulesFor, type AuthzAttributes, type Decision, type UserInfo } from '../auth.js';
import type { ImpersonatedUser } from './impersonation.js';
import { rulesFor } from './authorizer.js';
import { nodeNameOf, nodeRules } from './node-authorizer.js';
import type { RbacState } from './state.js';

export interface ReviewDeps {
  /** The whole chain (fixed rules, then RBAC). */
  authorize(user: UserInfo, attrs: AuthzAttributes): Decision;
  rbac(): RbacState;
}

export const REVIEW_GROUPS = new Set(['authorization.k8s.io', 'authentication.k8s.io']);

function attributesOf(spec: Record<string, unknown>): AuthzAttributes {
  const ra = asObj(spec.resourceAttributes);
  const nra = asObj(spec.nonResourceAttributes);
  if (ra) {
    const a: AuthzAttributes = { verb: asStr(ra.verb) ?? '', group: asStr(ra.group) ?? '', resource: asStr(ra.resource) ?? '' };
    if (asStr(ra.subresource)) a.subresource = asStr(ra.subresource);
    if (asStr(ra.namespace)) a.namespace = asStr(ra.namespace);
    if (asStr(ra.name)) a.name = asStr(ra.name);
    if (a.resource === '') throw new TriremeError('Invalid', 'spec.resourceAttributes.resource: Required value', { context: { kind: 'SubjectAccessReview', group: 'authorization.k8s.io', name: '' } });
    return a;
  }
  if (nra) return { verb: asStr(nra.verb) ?? '', group: '', resource: '', path: asStr(nra.path) ?? '' };
  throw new TriremeError('Invalid', 'spec: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', { context: { kind: 'SubjectAccessReview', group: 'authorization.k8s.io', name: '' } });
}

function status(d: Decision): Record<string, unknown> {
  return d.allowed ? { allowed: true, reason: d.reason } : { allowed: false };
}

function withStatus(body: KubeObject, st: Record<string, unknown>): KubeObject {
  return { ...body, metadata: { ...(body.metadata ?? {}), creationTimestamp: null }, status: st } as unknown as KubeObject;
}

/** Answers one review (a create of `resource` in REVIEW_GROUPS by `user`); 201 with the filled-in object. */
export function answerReview(deps: ReviewDeps, resource: string, body: KubeObject, user: ImpersonatedUser): KubeObject {
  const spec = asObj((body as Record<string, unknown>).spec) ?? {};
  switch (resource) {
    case 'selfsubjectaccessreviews':
      return withStatus(body, status(deps.authorize(user, attributesOf(spec))));
    case 'subjectaccessreviews': {
      const name = asStr(spec.user) ?? '';
      const groups = (asArr(spec.groups) ?? []).filter((g): g is string => typeof g === 'string');
      if (name === '' && groups.length === 0) throw new TriremeError('Invalid', 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified', { context: { kind: 'SubjectAccessReview', group: 'authorization.k8s.io', name: '' } });
      return withStatus(body, status(deps.authorize({ name, groups }, attributesOf(spec))));
    }
    case 'selfsubjectrulesreviews': {
      const ns = asStr(spec.namespace) || undefined;
      const fixed = fixedRulesFor(user, ns);
      // A node's graph grants (Secrets its pods reference, ...) are not listed: incomplete.
      const node = nodeNameOf(user) !== undefined;
      const all = [...fixed.rules, ...nodeRules(user, ns), ...rulesFor(deps.rbac(), user, ns)];
      return withStatus(body, {
        resourceRules: all.filter((r) => r.nonResourceURLs.length === 0).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources, ...(r.resourceNames.length ? { resourceNames: r.resourceNames } : {}) })),
        nonResourceRules: all.filter((r) => r.nonResourceURLs.length > 0).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
        incomplete: fixed.incomplete || node,
      });
    }
    case 'selfsubjectreviews':
      return withStatus(body, { userInfo: { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } });
    default:
      throw new TriremeError('NotFound', 'the server could not find the requested resource');
  }
}
