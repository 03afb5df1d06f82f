// Impersonation headers (Impersonate-User, Impersonate-Group, Impersonate-Uid,
// Impersonate-Extra-*), as Kubernetes checks them: each requested attribute needs the
// `impersonate` verb on `users`, `groups`, `serviceaccounts` (a `system:serviceaccount:<ns>:<n>`
// user: namespace ns, name n), `uids` or `userextras/<key>` (authentication.k8s.io for the last
// two), named by the value. The impersonated user gets `system:authenticated` (and, for a
// service account, `system:serviceaccounts` and `system:serviceaccounts:<ns>`). Guarantees:
// pure given `authorize`; a denied attribute is a 403 naming it. Does not: impersonate
// system:anonymous into system:unauthenticated (it is treated like any named user).
import type { IncomingHttpHeaders } from 'node:http';
import { TriremeError } from '../../errors.js';
import { AUTHENTICATED_GROUP, type AuthzAttributes, type Decision, type UserInfo } from '../auth.js';
import { SERVICE_ACCOUNT_PREFIX } from './state.js';

export interface ImpersonatedUser extends UserInfo {
  uid?: string;
  extra?: Record<string, string[]>;
}

function values(h: string | string[] | undefined): string[] {
  if (h === undefined) return [];
  return (Array.isArray(h) ? h : [h]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** True when the request asks to impersonate anyone. */
export function wantsImpersonation(headers: IncomingHttpHeaders): boolean {
  return Object.keys(headers).some((k) => k.startsWith('impersonate-'));
}

/**
 * The user the request acts as: `requester` itself without impersonation headers; the
 * impersonated user when every header is allowed; a Forbidden error otherwise.
 */
export function impersonate(
  headers: IncomingHttpHeaders,
  requester: UserInfo,
  authorize: (user: UserInfo, attrs: AuthzAttributes) => Decision,
): ImpersonatedUser {
  if (!wantsImpersonation(headers)) return requester;
  const userName = values(headers['impersonate-user'])[0];
  if (userName === undefined) throw new TriremeError('BadRequest', 'requested impersonation of groups or extra without impersonating a user');
  const check = (attrs: AuthzAttributes, what: string): void => {
    if (!authorize(requester, attrs).allowed) {
      throw new TriremeError('Forbidden', `${attrs.resource} ${JSON.stringify(attrs.name ?? '')} is forbidden: User ${JSON.stringify(requester.name)} cannot impersonate resource ${JSON.stringify(attrs.resource)} in API group ${JSON.stringify(attrs.group)}${attrs.namespace ? ` in the namespace ${JSON.stringify(attrs.namespace)}` : ' at the cluster scope'}${what}`);
    }
  };
  const groups: string[] = [];
  if (userName.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const [ns, name] = userName.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    if (!ns || !name) throw new TriremeError('BadRequest', `invalid service account name ${JSON.stringify(userName)}`);
    check({ verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: ns, name }, '');
    groups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
  } else {
    check({ verb: 'impersonate', group: '', resource: 'users', name: userName }, '');
  }
  for (const g of values(headers['impersonate-group'])) {
    check({ verb: 'impersonate', group: '', resource: 'groups', name: g }, '');
    if (!groups.includes(g)) groups.push(g);
  }
  const out: ImpersonatedUser = { name: userName, groups };
  const uid = values(headers['impersonate-uid'])[0];
  if (uid !== undefined) {
    check({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: uid }, '');
    out.uid = uid;
  }
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith('impersonate-extra-')) continue;
    const key = decodeURIComponent(k.slice('impersonate-extra-'.length));
    for (const val of values(v)) {
      check({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: val }, '');
      (out.extra ??= {})[key] = [...(out.extra[key] ?? []), val];
    }
  }
  if (!out.groups.includes(AUTHENTICATED_GROUP)) out.groups.push(AUTHENTICATED_GROUP);
  return out;
}
