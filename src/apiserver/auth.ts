// Authentication and authorization of API requests, in one place.
// Authentication: a TLS client certificate issued by the cluster CA (CN -> user, O ->
// groups), else `Authorization: Bearer <token>` compared in constant time against the
// known tokens, or verified as a signed token (the dashboard's, dashboard-token.ts). No
// cookie or query parameter ever authenticates, so no request a browser sends on its own
// (a cross-site form or image) carries credentials. Authenticated users also get `system:authenticated`, like Kubernetes.
// Authorization: a small, data-driven rule table (subjects are groups, rules are RBAC-like
// verbs x apiGroups x resources, or non-resource paths). The server's chain (createAuthorizer)
// consults the part of it RBAC cannot express first (PRE_RBAC_ROLES: system:masters, the
// anonymous public paths and dashboard page), then the `next` authorizer the server gives it (the
// node authorizer, ./rbac/node-authorizer.ts, then RBAC, ./rbac/); the whole table (ROLES) stays
// as the reference the defaults mirror. Nodes have no fixed rule: the node authorizer decides.
// Does not: check revocation, or support front-proxy headers (impersonation: ./rbac/impersonation.ts).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Attributes } from './rbac/rules.js';

export interface UserInfo {
  name: string;
  groups: string[];
}

export const AUTHENTICATED_GROUP = 'system:authenticated';
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const MASTERS_GROUP = 'system:masters';
export const NODES_GROUP = 'system:nodes';
export const READ_ONLY_GROUP = 'trireme:read-only';
/** The cluster DNS replicas (src/dns/addon/): they read what they answer from. */
export const DNS_GROUP = 'trireme:dns';
export const NODE_USER_PREFIX = 'system:node:';
/** Holders of a dashboard token (dashboard-token.ts): what the dashboard page reads, nothing more. */
export const DASHBOARD_GROUP = 'trireme:dashboard';

/** Who an unauthenticated request is, for authorization and messages. */
export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: [UNAUTHENTICATED_GROUP] };

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export interface Authenticator {
  authenticate(req: IncomingMessage): UserInfo | undefined;
}

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes(AUTHENTICATED_GROUP) ? u : { name: u.name, groups: [...u.groups, AUTHENTICATED_GROUP] };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function createAuthenticator(opts: {
  caCertPem: string;
  tokens: Map<string, UserInfo>;
  /** Verifies a self-contained signed token; undefined when it is not a valid one. */
  signedToken?: (token: string) => UserInfo | undefined;
}): Authenticator {
  const ca = new X509Certificate(opts.caCertPem);
  // A connection's certificate does not change, and keep-alive connections carry many
  // requests: verify each socket's certificate once.
  const bySocket = new WeakMap<TLSSocket, UserInfo | null>();

  function fromCertificate(socket: TLSSocket): UserInfo | undefined {
    const cached = bySocket.get(socket);
    if (cached !== undefined) return cached ?? undefined;
    const user = verifyPeer(socket);
    bySocket.set(socket, user ?? null);
    return user;
  }

  function verifyPeer(socket: TLSSocket): UserInfo | undefined {
    // `authorized` says the chain verified against the server's `ca` option; we also check
    // the leaf is issued by *our* CA and meant for clients, so a server configured with a
    // wider trust store cannot turn some other CA's certificate into a cluster identity.
    if (!socket.authorized) return undefined;
    const peer = socket.getPeerCertificate();
    if (!peer || peer.raw === undefined) return undefined;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(peer.raw);
    } catch {
      return undefined;
    }
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return undefined;
    const eku = leaf.keyUsage;
    if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID)) return undefined;
    const name = asList(peer.subject.CN)[0];
    if (name === undefined || name === '') return undefined;
    return withAuthenticated({ name, groups: asList(peer.subject.O) });
  }

  function fromBearer(header: string | undefined): UserInfo | undefined {
    if (header === undefined) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const signed = opts.signedToken?.(m[1]!);
    if (signed !== undefined) return withAuthenticated(signed);
    // Compare digests so lengths match; visit every token so timing says nothing about which.
    const presented = sha256(m[1]!);
    let found: UserInfo | undefined;
    for (const [token, user] of opts.tokens) {
      if (timingSafeEqual(presented, sha256(token)) && found === undefined) found = user;
    }
    return found === undefined ? undefined : withAuthenticated(found);
  }

  return {
    authenticate(req) {
      const socket = req.socket as TLSSocket;
      if (socket.encrypted) {
        const user = fromCertificate(socket);
        if (user) return user;
      }
      return fromBearer(req.headers.authorization);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Authorization

/** What authorization looks at in a request: one shape for the fixed rules and RBAC (rbac/rules.ts). */
export type AuthzAttributes = Attributes;

export interface Decision {
  allowed: boolean;
  reason: string;
}

interface ResourceRule {
  kind: 'resource';
  verbs: readonly string[];
  apiGroups: readonly string[];
  /** `pods`, `pods/status`, `pods/*` (all subresources), or `*` (everything). */
  resources: readonly string[];
  /** Resources matched above that this rule still does not grant. */
  exceptResources?: readonly string[];
  namespaces?: readonly string[];
}

interface NonResourceRule {
  kind: 'nonresource';
  verbs: readonly string[];
  /** Exact paths, or a prefix ending in `*` (RBAC's nonResourceURLs). */
  paths: readonly string[];
}

export interface Role {
  name: string;
  /** The role applies to users in any of these groups. */
  groups: readonly string[];
  rules: readonly (ResourceRule | NonResourceRule)[];
}

const READ = ['get', 'list', 'watch'] as const;
/** Reads of everything but credentials (secrets) and the subresources that reach into workloads. */
const READ_NOT_SECRETS: ResourceRule = {
  kind: 'resource', verbs: READ, apiGroups: ['*'], resources: ['*'],
  exceptResources: ['secrets', 'pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'services/proxy', 'nodes/proxy'],
};
// The CA certificate is public: a joining agent checks it against the hash its token pins.
const PUBLIC_INFO_PATHS = ['/version', '/version/', '/healthz', '/livez', '/readyz', '/cacerts'] as const;

/** Every role, in the order they are consulted. */
export const ROLES: readonly Role[] = [
  {
    name: 'cluster-admin',
    groups: [MASTERS_GROUP],
    rules: [
      { kind: 'resource', verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
      { kind: 'nonresource', verbs: ['*'], paths: ['*'] },
    ],
  },
  {
    name: 'trireme:read-only',
    groups: [READ_ONLY_GROUP],
    rules: [READ_NOT_SECRETS],
  },
  {
    // What the dashboard page shows: the read-only user's reads, the cluster status and doctor.
    name: 'trireme:dashboard',
    groups: [DASHBOARD_GROUP],
    rules: [
      READ_NOT_SECRETS,
      { kind: 'nonresource', verbs: ['get'], paths: ['/trireme/v1/cluster', '/trireme/v1/cluster/doctor'] },
    ],
  },
  {
    name: 'trireme:dns',
    groups: [DNS_GROUP],
    rules: [{ kind: 'resource', verbs: READ, apiGroups: [''], resources: ['services', 'endpoints', 'pods'] }],
  },
  {
    name: 'system:node-bootstrapper',
    groups: ['system:bootstrappers'],
    rules: [{ kind: 'nonresource', verbs: ['post'], paths: ['/trireme/v1/node-credentials'] }],
  },
  {
    // The join token is the server token too (as in k3s): its holder may become a server.
    name: 'trireme:server-bootstrapper',
    groups: ['system:bootstrappers'],
    rules: [{ kind: 'nonresource', verbs: ['post'], paths: ['/trireme/v1/server-join'] }],
  },
  {
    name: 'system:discovery',
    groups: [AUTHENTICATED_GROUP],
    rules: [{ kind: 'nonresource', verbs: ['get'], paths: [...PUBLIC_INFO_PATHS, '/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*'] }],
  },
  {
    name: 'system:public-info-viewer',
    groups: [AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP],
    rules: [{ kind: 'nonresource', verbs: ['get'], paths: PUBLIC_INFO_PATHS }],
  },
  {
    // The dashboard's page, script and style hold no cluster data: a browser must load them
    // before it can present a token. Everything the page then reads needs one.
    name: 'trireme:dashboard-page',
    groups: [AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP],
    rules: [{ kind: 'nonresource', verbs: ['get'], paths: ['/dashboard', '/dashboard/*'] }],
  },
];

function matchesList(list: readonly string[], v: string): boolean {
  return list.includes('*') || list.includes(v);
}

function resourceMatches(patterns: readonly string[], resource: string, subresource: string | undefined): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  return patterns.some((p) => p === '*' || p === full || (subresource !== undefined && p === `${resource}/*`));
}

function pathMatches(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : p === path));
}

function ruleAllows(rule: ResourceRule | NonResourceRule, a: AuthzAttributes): boolean {
  if (!matchesList(rule.verbs, a.verb)) return false;
  if (rule.kind === 'nonresource') return a.resource === '' && a.path !== undefined && pathMatches(rule.paths, a.path);
  if (a.resource === '') return false;
  if (!matchesList(rule.apiGroups, a.group)) return false;
  if (!resourceMatches(rule.resources, a.resource, a.subresource)) return false;
  if (rule.exceptResources && resourceMatches(rule.exceptResources, a.resource, a.subresource)) return false;
  if (rule.namespaces && (a.namespace === undefined || !rule.namespaces.includes(a.namespace))) return false;
  return true;
}

/** Kubernetes' wording, so kubectl users see the familiar "cannot list resource" line. */
function denial(user: UserInfo, a: AuthzAttributes): string {
  if (a.resource === '') return `User "${user.name}" cannot ${a.verb} path "${a.path ?? ''}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `User "${user.name}" cannot ${a.verb} resource "${res}" in API group "${a.group}"${where}`;
}

/** The user a request counts as: anonymous when unauthenticated; always in system:authenticated otherwise. */
export function effectiveUser(user: UserInfo | undefined): UserInfo {
  return user === undefined ? ANONYMOUS : withAuthenticated(user);
}

function fixedDecision(who: UserInfo, attrs: AuthzAttributes, roles: readonly Role[]): Decision | undefined {
  for (const role of roles) {
    if (!role.groups.some((g) => who.groups.includes(g))) continue;
    if (role.rules.some((r) => ruleAllows(r, attrs))) return { allowed: true, reason: `allowed by role "${role.name}"` };
  }
  return undefined;
}

/** Decides one request; `undefined` means unauthenticated (treated as system:anonymous). */
export function authorize(user: UserInfo | undefined, attrs: AuthzAttributes, roles: readonly Role[] = ROLES): Decision {
  // Any user we were handed was authenticated, whether or not the caller added the group.
  const who = effectiveUser(user);
  return fixedDecision(who, attrs, roles) ?? { allowed: false, reason: denial(who, attrs) };
}

/**
 * What stays ahead of RBAC: system:masters (Kubernetes' privileged group, so the admin is never
 * locked out by a broken binding) and the paths anyone may read before RBAC's cache is there.
 * Nodes are the node authorizer's (rbac/node-authorizer.ts), which the server puts between these
 * and RBAC.
 */
export const PRE_RBAC_ROLES: readonly Role[] = ROLES.filter((r) => ['cluster-admin', 'system:public-info-viewer', 'trireme:dashboard-page'].includes(r.name));

/** A second authorizer consulted after the fixed rules: undefined reason-less denial means "no opinion". */
export type ChainedAuthorizer = (user: UserInfo, attrs: AuthzAttributes) => Decision;

/** The server's chain: PRE_RBAC_ROLES, then `next` (RBAC); denial text as Kubernetes words it. */
export function createAuthorizer(next: ChainedAuthorizer, roles: readonly Role[] = PRE_RBAC_ROLES): (user: UserInfo | undefined, attrs: AuthzAttributes) => Decision {
  return (user, attrs) => {
    const who = effectiveUser(user);
    const fixed = fixedDecision(who, attrs, roles);
    if (fixed) return fixed;
    const d = next(who, attrs);
    return d.allowed ? d : { allowed: false, reason: denial(who, attrs) };
  };
}

/**
 * The fixed rules `user` holds in `namespace`, in RBAC's shape (for SelfSubjectRulesReview):
 * a rule with exceptions is left out
 * and makes the answer `incomplete`, as Kubernetes marks rules it cannot list.
 */
export function fixedRulesFor(user: UserInfo, namespace: string | undefined, roles: readonly Role[] = PRE_RBAC_ROLES): { rules: { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames: string[]; nonResourceURLs: string[] }[]; incomplete: boolean } {
  const who = withAuthenticated(user);
  const rules: { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames: string[]; nonResourceURLs: string[] }[] = [];
  let incomplete = false;
  for (const role of roles) {
    if (!role.groups.some((g) => who.groups.includes(g))) continue;
    for (const r of role.rules) {
      if (r.kind === 'nonresource') { rules.push({ verbs: [...r.verbs], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: [...r.paths] }); continue; }
      if (r.exceptResources) { incomplete = true; continue; }
      if (r.namespaces && (namespace === undefined || !r.namespaces.includes(namespace))) continue;
      rules.push({ verbs: [...r.verbs], apiGroups: [...r.apiGroups], resources: [...r.resources], resourceNames: [], nonResourceURLs: [] });
    }
  }
  return { rules, incomplete };
}
