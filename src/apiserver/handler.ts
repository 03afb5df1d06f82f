// The API server's request pipeline: authenticate → flow control (flow-control.ts: a seat per
// priority level, or 429) → authorize → route (non-resource paths,
// discovery, OpenAPI, resources) → fence of mutating requests (resolved here, enforced by the
// registry in each store write; leader-elected identities must carry one) → answer; every
// failure becomes a Status. One function per
// stage; resources route to resource-handler.ts, subresources.ts or watch-handler.ts, which share
// request-context.ts and do not import each other.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TriremeError } from '../errors.js';
import type { Logger } from '../util/log.js';
import type { KubeObject } from '../api/object.js';
import { effectiveUser, type UserInfo } from './auth.js';
import { impersonate, wantsImpersonation } from './rbac/impersonation.js';
import { answerReview, REVIEW_GROUPS } from './rbac/reviews.js';
import { rbacAdmission } from './rbac/guard.js';
import { nodeRestriction } from './rbac/node-restriction.js';
import { nodeNameOf } from './rbac/node-authorizer.js';
import type { RbacState } from './rbac/state.js';
import { aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { parseAccept, readBody, sendError, sendJson } from './http-util.js';
import { decodeBody } from './decode-body.js';
import { FENCE_HEADER, isFencedError } from '../api/fence.js';
import { requireFence, resolveFence } from './fence-check.js';
import type { WriteFence } from './registry.js';
import type { PodProxy } from './pod-proxy.js';
import type { ApiMetrics } from './metrics.js';
import { openapiV3Document, openapiV3Paths } from './openapi/index.js';
import type { Registry } from './registry.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { handleResource } from './resource-handler.js';
import { resolveResource, type RequestContext } from './request-context.js';
import type { OpenWatches } from './open-watches.js';
import type { ClusterRoutes } from './cluster-routes.js';
import type { SnapshotRoutes } from './snapshot-routes.js';
import type { ResourceMetrics } from './resource-metrics.js';
import type { DashboardRoutes } from './dashboard-routes.js';
import { handleSubresource } from './subresources.js';
import { serveWatch } from './watch-handler.js';
import { qualifiedName, statusFromError } from './status.js';
import type { Duplex } from 'node:stream';
import { VERSION_INFO } from './version.js';
import type { FlowControl } from './flow-control.js';
import { beginAudit, type Auditing, type RequestWho } from './audit/request.js';

export interface HandlerDeps {
  registry: Registry;
  authenticate(req: IncomingMessage): UserInfo | undefined;
  authorize(user: UserInfo | undefined, attrs: { verb: string; group: string; resource: string; subresource?: string; namespace?: string; name?: string; path?: string }): { allowed: boolean; reason: string };
  /** The RBAC state (the informer cache of rbac/cache.ts): reviews and escalation checks read it. */
  rbac(): RbacState;
  /** host:port clients use, for APIVersions.serverAddressByClientCIDRs. */
  serverAddress: string;
  health(): Promise<{ name: string; ok: boolean; message?: string }[]>;
  metrics: ApiMetrics;
  logger: Logger;
  caPem: string;
  /** Issues a joining node's credentials (POST /trireme/v1/node-credentials). */
  nodeCredentials(request: unknown): Promise<unknown>;
  /** Proxies pods/log and pods/exec to the pod's node agent. */
  proxyToNode: PodProxy;
  /** This server's open watch streams. */
  watches: OpenWatches;
  /** Server join, cluster status and member removal (cluster-routes.ts). */
  cluster: ClusterRoutes;
  /** Snapshot save, list and prune (snapshot-routes.ts). */
  snapshots: SnapshotRoutes;
  /** Rotation of the Secrets encryption key (encryption-routes.ts). */
  encryption: { serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> };
  /** metrics.k8s.io, answered from the agents (resource-metrics.ts). */
  resourceMetrics: ResourceMetrics;
  /** The dashboard page and dashboard tokens (dashboard-routes.ts). */
  dashboard: DashboardRoutes;
  /** Seats per priority level (flow-control.ts): taken before authorization, given back when the response closes. */
  flow: FlowControl;
  /** The audit log, when on (audit/request.ts). */
  audit?: Auditing;
}

export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const url = requestUrl(req.url);
    if (!url) {
      sendError(res, new TriremeError('BadRequest', 'the request target is not a valid URL path'));
      return;
    }
    // In flight: every request but watches, which count as long-running instead.
    // A path that does not parse (a malformed escape) is answered 400 by handle(); counted as non-resource here.
    const early = parseRequestInfoOr(req.method ?? 'GET', url.pathname, url.searchParams);
    const watch = early.kind === 'resource' && early.verb === 'watch';
    const kind = req.method === 'GET' || req.method === 'HEAD' ? 'readOnly' : 'mutating';
    if (watch) {
      // A watch is open until its response closes (the handler returns once the stream is set up).
      const labels = { resource: early.kind === 'resource' ? early.resource : '' };
      deps.metrics.watches.inc(labels);
      res.once('close', () => deps.metrics.watches.dec(labels));
    } else deps.metrics.inflight.inc({ request_kind: kind });
    let ri: RequestInfo | undefined;
    const audited = deps.audit ? beginAudit(deps.audit, req, res) : undefined;
    handle(deps, req, res, url, audited?.who).then((info) => { ri = info; }, (err: unknown) => {
      const status = sendError(res, err);
      if (audited) audited.who.message = status.message;
      if (status.code >= 500) deps.logger.error({ err, method: req.method, path: url.pathname }, 'request failed');
      if (isFencedError(err)) {
        const lease = String((err as { context: Record<string, unknown> }).context.lease);
        deps.metrics.fencedWrites.inc({ lease });
        deps.logger.info({ lease, method: req.method, path: url.pathname, reason: (err as Error).message }, 'fenced write refused');
      }
    }).finally(() => {
      if (!watch) deps.metrics.inflight.dec({ request_kind: kind });
      const info = ri ?? early;
      audited?.done(info, watch);
      if (info.kind === 'resource') {
        deps.metrics.requests.inc({ verb: info.verb, group: info.group, resource: info.resource, subresource: info.subresource ?? '', code: String(res.statusCode) });
        if (info.verb !== 'watch') deps.metrics.duration.observe({ verb: info.verb, resource: info.resource }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    });
  };
}

/** Websocket upgrades: only `pods/exec` (proxied to the node agent); anything else is refused. */
export function createUpgradeHandler(deps: HandlerDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const url = requestUrl(req.url);
    if (!url) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Not a pods/exec path when it does not parse: refused below like any other.
    const ri = parseRequestInfoOr('GET', url.pathname, url.searchParams);
    const audited = deps.audit ? beginAudit(deps.audit, req) : undefined;
    const refuse = (err: unknown) => {
      const status = statusFromError(err);
      if (audited) audited.who.message = status.message;
      audited?.done(ri.kind === 'resource' ? { ...ri, verb: 'create' } : ri, false, status.code);
      const body = JSON.stringify(status);
      if (status.code >= 500) deps.logger.warn({ err, path: url.pathname }, 'exec failed');
      socket.end(`HTTP/1.1 ${status.code} ${status.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    socket.on('error', (err) => deps.logger.debug({ err }, 'upgrade socket error'));
    (async () => {
      if (ri.kind !== 'resource' || ri.resource !== 'pods' || ri.subresource !== 'exec' || !ri.namespace || !ri.name || ri.group !== '') {
        throw new TriremeError('BadRequest', 'only pods/exec accepts a protocol upgrade');
      }
      const user = requestUser(deps, req, audited?.who);
      // Exec over a websocket GET is authorized as create, as Kubernetes does.
      const decision = deps.authorize(user, { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: ri.namespace, name: ri.name });
      if (!decision.allowed) throw user ? forbidden(user, { ...ri, verb: 'create' }) : new TriremeError('Unauthorized', 'Unauthorized');
      await deps.proxyToNode.exec(req, socket, head, ri.namespace, ri.name, url.searchParams);
      audited?.done({ ...ri, verb: 'create' }, true, 101);
    })().catch(refuse);
  };
}

/**
 * Who a request acts as: the authenticated user, or the one its impersonation headers name when
 * the real requester may impersonate each attribute (a Forbidden error otherwise).
 */
function requestUser(deps: HandlerDeps, req: IncomingMessage, who?: RequestWho): UserInfo | undefined {
  const authenticated = deps.authenticate(req);
  if (who) who.user = authenticated;
  if (!wantsImpersonation(req.headers)) return authenticated;
  const as = impersonate(req.headers, effectiveUser(authenticated), (u, a) => deps.authorize(u, a));
  if (who) who.impersonated = as;
  return as;
}

async function handle(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, url: URL, who?: RequestWho): Promise<RequestInfo> {
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const ri = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
  const user = requestUser(deps, req, who);
  const seat = deps.flow.admit(user, req.method ?? 'GET', ri, url.searchParams);
  if (!seat.ok) {
    deps.metrics.rejected.inc({ priority_level: seat.level, reason: seat.reason });
    throw seat.error;
  }
  res.once('close', seat.release);
  const attrs = ri.kind === 'resource'
    ? { verb: ri.verb, group: ri.group, resource: ri.resource, subresource: ri.subresource, namespace: ri.namespace, name: ri.name }
    : { verb: req.method === 'HEAD' ? 'get' : (req.method ?? 'GET').toLowerCase(), group: '', resource: '', path };
  const decision = deps.authorize(user, attrs);
  // Anonymous requests that no rule admits are 401 (who are you?), others 403 (not you).
  if (!decision.allowed) throw user ? forbidden(user, ri) : new TriremeError('Unauthorized', 'Unauthorized');
  if (ri.kind === 'nonresource') {
    if (path === '/trireme/v1/node-credentials' && req.method === 'POST') {
      sendJson(res, 200, await deps.nodeCredentials(decodeBody(req.headers['content-type'], await readBody(req, 64 * 1024))));
      return ri;
    }
    if (await deps.cluster.serve(req, res, path)) return ri;
    if (await deps.snapshots.serve(req, res, path)) return ri;
    if (await deps.encryption.serve(req, res, path)) return ri;
    if (await deps.dashboard.serve(req, res, path, user)) return ri;
    await serveNonResource(deps, req, res, path, url);
    return ri;
  }
  if (ri.group === 'metrics.k8s.io') {
    await deps.resourceMetrics.serve(req, res, ri, url.searchParams);
    return ri;
  }
  if (REVIEW_GROUPS.has(ri.group)) {
    if (ri.verb !== 'create') throw new TriremeError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const body = decodeBody(req.headers['content-type'], await readBody(req, 1024 * 1024));
    sendJson(res, 201, answerReview({ authorize: (u, a) => deps.authorize(u, a), rbac: () => deps.rbac() }, ri.resource, body, effectiveUser(user)));
    return ri;
  }
  const info = resolveResource(ri);
  const header = req.headers[FENCE_HEADER.toLowerCase()];
  let fence: WriteFence | undefined;
  if (MUTATING.has(ri.verb)) {
    if (Array.isArray(header)) throw new TriremeError('BadRequest', `more than one ${FENCE_HEADER} header`);
    // Checked here, before the body is read, and again atomically with every store write.
    if (header !== undefined) fence = await resolveFence(deps.registry.store, header);
    else if (user) requireFence(user.name, ri);
  }
  const admit = rbacAdmission({ authorize: (u, a) => deps.authorize(u, a), rbac: () => deps.rbac() }, effectiveUser(user), ri);
  const admitWrite = user && nodeNameOf(user) !== undefined ? (next: KubeObject, current: KubeObject | undefined) => nodeRestriction(user, ri, next, current) : undefined;
  const ctx: RequestContext = { req, res, query: url.searchParams, info, ri, registry: deps.registry, proxyToNode: deps.proxyToNode, watches: deps.watches, ...(fence ? { fence } : {}), ...(admit ? { admit } : {}), ...(admitWrite ? { admitWrite } : {}) };
  if (ri.subresource !== undefined) await handleSubresource(ctx);
  else if (ri.verb === 'watch') await serveWatch(ctx);
  else await handleResource(ctx);
  return ri;
}

/** Verbs a fence applies to: reads and watches never change anything, so they are not fenced. */
const MUTATING: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

function forbidden(user: UserInfo, ri: RequestInfo): TriremeError {
  if (ri.kind === 'nonresource') return new TriremeError('Forbidden', `forbidden: User "${user.name}" cannot get path "${ri.path}"`);
  const res = ri.subresource ? `${ri.resource}/${ri.subresource}` : ri.resource;
  const where = ri.namespace ? ` in the namespace "${ri.namespace}"` : ri.resource === 'namespaces' || !ri.namespace ? ' at the cluster scope' : '';
  return new TriremeError('Forbidden', `${qualifiedName(ri.group, ri.resource, ri.name)} is forbidden: User "${user.name}" cannot ${ri.verb} resource "${res}" in API group "${ri.group}"${where}`, { context: { name: ri.name, group: ri.group, kind: ri.resource } });
}

function stripHealthSuffix(path: string): string {
  const m = /^\/(healthz|livez|readyz)(\/.*)?$/.exec(path);
  return m ? `/${m[1]}` : path;
}

async function serveNonResource(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new TriremeError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
  if (path === '/version') return sendJson(res, 200, VERSION_INFO);
  if (path === '/cacerts') {
    res.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
    res.end(deps.caPem);
    return;
  }
  const health = stripHealthSuffix(path);
  if (health === '/healthz' || health === '/livez' || health === '/readyz') return serveHealth(deps, res, path, url);
  if (path === '/metrics') {
    const body = await deps.metrics.registry.metrics();
    res.writeHead(200, { 'Content-Type': deps.metrics.registry.contentType });
    res.end(body);
    return;
  }
  if (path === '/api' || path === '/apis') return serveDiscoveryRoot(deps, req, res, path === '/api');
  if (path === '/openapi/v3') return sendJson(res, 200, { paths: openapiV3Paths() });
  if (path.startsWith('/openapi/v3/')) {
    const doc = openapiV3Document(path.slice('/openapi/v3/'.length));
    if (!doc) throw new TriremeError('NotFound', 'the server could not find the requested resource');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': doc.body.length, 'Cache-Control': url.searchParams.has('hash') ? 'public, immutable' : 'no-cache, private', ETag: `"${doc.hash}"` });
    res.end(doc.body);
    return;
  }
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api' && parts.length === 2) {
    const doc = apiResourceList('', parts[1]!);
    if (doc) return sendJson(res, 200, doc);
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const doc = apiGroupDoc(parts[1]!);
    if (doc) return sendJson(res, 200, doc);
  }
  if (parts[0] === 'apis' && parts.length === 3) {
    const doc = apiResourceList(parts[1]!, parts[2]!);
    if (doc) return sendJson(res, 200, doc);
  }
  throw new TriremeError('NotFound', 'the server could not find the requested resource');
}

function serveDiscoveryRoot(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, legacy: boolean): void {
  for (const m of parseAccept(req.headers.accept)) {
    if (m.params.g === 'apidiscovery.k8s.io' && m.params.as === 'APIGroupDiscoveryList' && (m.params.v === 'v2' || m.params.v === 'v2beta1')) {
      // The Content-Type must repeat the aggregated media type exactly, or kubectl misreads the body.
      return sendJson(res, 200, aggregatedDiscovery(legacy, `apidiscovery.k8s.io/${m.params.v}`), `application/json;g=apidiscovery.k8s.io;v=${m.params.v};as=APIGroupDiscoveryList`);
    }
  }
  sendJson(res, 200, legacy ? apiVersions(deps.serverAddress) : apiGroupList());
}

async function serveHealth(deps: HandlerDeps, res: ServerResponse, path: string, url: URL): Promise<void> {
  const checks = [{ name: 'ping', ok: true }, ...(path.startsWith('/livez') ? [] : await deps.health())];
  const single = /^\/(?:healthz|livez|readyz)\/(.+)$/.exec(path)?.[1];
  const selected = single ? checks.filter((c) => c.name === single) : checks;
  if (single && selected.length === 0) throw new TriremeError('NotFound', `no such health check: ${single}`);
  const ok = selected.every((c) => c.ok);
  const kind = path.split('/')[1];
  let body: string;
  if (url.searchParams.has('verbose')) {
    // Store members are information, not checks: another member's death must not fail this server.
    const info = kind === 'readyz' && !single ? await deps.cluster.readyzLines() : [];
    body = [...selected.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${c.message ?? 'reason withheld'}`)), ...info].join('\n') + `\n${kind} check ${ok ? 'passed' : 'failed'}\n`;
  } else {
    body = ok ? 'ok' : `${kind} check failed`;
  }
  res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

/** parseRequestInfo, or the path as a non-resource request when it does not parse. */
function parseRequestInfoOr(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  try {
    return parseRequestInfo(method, pathname, query);
  } catch {
    return { kind: 'nonresource', path: pathname };
  }
}

/**
 * The request's URL. The raw target is appended to the base, never resolved against it: a target
 * like `//host/x` would otherwise be read as another host and lose its path. Undefined when it
 * still does not parse (answered 400).
 */
function requestUrl(target: string | undefined): URL | undefined {
  const t = target ?? '/';
  try {
    return new URL(`https://localhost${t.startsWith('/') ? t : `/${t}`}`);
  } catch {
    return undefined;
  }
}
