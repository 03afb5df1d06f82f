// A small typed client of the Trireme (Kubernetes) API over HTTPS keep-alive. Guarantees: every
// non-2xx answer becomes a TriremeError whose code follows the Status reason, else the HTTP
// status (the table of src/api/error-status.ts; context.status holds the Status); a request
// unanswered within its timeout is a Timeout, an unreachable server ServiceUnavailable;
// watches deliver events in order and end exactly once through onEnd.
// With a fence set (setFence), mutating requests carry it (src/api/fence.ts).
// Connections: while another server is left to try, TCP connect within connectTimeoutMs (1 s)
// and the TLS handshake within handshakeTimeoutMs (2 s), so a hung server is skipped quickly; on
// the last server left (the only one without a balancer) both together within
// lastServerConnectTimeoutMs (10 s, client-go's TLS handshake timeout), because giving up
// there only fails the request while a loaded server is still working through its handshakes.
// TCP keepalive on every socket; a watch that allows bookmarks and hears nothing for
// WATCH_SILENCE_LIMIT_MS ends with Timeout (the server's heartbeat stopped).
// With a balancer in the config (src/client/balancer.ts): a request that could not connect
// (refused, unreachable, connect or handshake timeout, TLS failure: nothing was sent) is tried
// at once on the next server the balancer picks, until every server was tried; one keep-alive
// pool per server, destroyed when the balancer marks that server down (in-flight requests on
// it fail then, as after-send failures do). A GET that failed with ECONNRESET on a reused
// keep-alive socket before any answer (the server had closed it) is sent again on the next server.
// Does not retry a request that failed after it was sent: callers (informers, controllers)
// decide what a failure means.
import https from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { KubeObject } from '../api/object.js';
import { groupVersion, type ResourceInfo } from '../api/resources.js';
import { errorCodeOf } from '../api/error-status.js';
import { TriremeError } from '../errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { ClientConfig, ServerChooser } from './config.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { WATCH_SILENCE_LIMIT_MS } from '../api/watch-heartbeat.js';
import { FENCE_HEADER, formatFence, type Fence } from '../api/fence.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export interface WatchOptions {
  resourceVersion: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  /** End the watch (Timeout) after this long without a byte; default WATCH_SILENCE_LIMIT_MS with bookmarks, else never. */
  silenceLimitMs?: number;
}

export interface ApiClientOptions {
  logger?: Logger;
  /** Sockets per server. */
  maxSockets?: number;
  /** A request (not a watch) on which the server sends nothing for this long fails with Timeout. */
  requestTimeoutMs?: number;
  /** TCP connect deadline of a new connection (default 1 s). */
  connectTimeoutMs?: number;
  /** TLS handshake deadline of a new connection, from its start (default 2 s). */
  handshakeTimeoutMs?: number;
  /** Connect and handshake deadline on the last server left to try (default 10 s). */
  lastServerConnectTimeoutMs?: number;
  clock?: Clock;
}

/** Initial delay of TCP keepalive probes on client sockets. */
const TCP_KEEPALIVE_MS = 1000;

/** A failure before the request could be sent: safe to try on another server. */
class ConnectFailure extends Error {
  /** `stale`: a reused keep-alive socket the server had already closed — not a judgement of the server. */
  constructor(readonly error: TriremeError, readonly original: Error, readonly stale = false) {
    super(error.message);
  }
}

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD']);

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: KubeObject;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'strategic' | 'json';

const PATCH_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

interface StatusLike { kind?: string; reason?: string; message?: string; code?: number; details?: { causes?: { reason: string; message: string; field: string }[] } }

/** The error a Status body (or a bare HTTP code) stands for. */
export function errorFromStatus(httpCode: number, status: StatusLike | undefined, what: string): TriremeError {
  const code = errorCodeOf(httpCode, status?.reason || undefined);
  return new TriremeError(code, status?.message ?? `${what}: HTTP ${httpCode}`, { causes: status?.details?.causes ?? [], context: { status, httpCode } });
}

export class ApiClient {
  private readonly agents = new Map<string, https.Agent>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly balancer: ServerChooser | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly maxSockets: number;
  private readonly connectTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly lastServerConnectTimeoutMs: number;
  private fence: string | undefined;
  private closed = false;

  /** A request (not a watch) on which the server sends nothing for this long fails with Timeout. */
  private readonly requestTimeoutMs: number;

  constructor(readonly config: ClientConfig, opts: ApiClientOptions = {}) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 1000;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 2000;
    this.lastServerConnectTimeoutMs = opts.lastServerConnectTimeoutMs ?? 10_000;
    this.maxSockets = opts.maxSockets ?? 32;
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.balancer = config.balancer;
    this.unsubscribe = this.balancer?.onDown((server) => this.dropAgent(server));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  /** From now on every mutating request carries this fence (undefined: none); reads and watches never do. */
  setFence(fence: Fence | undefined): void {
    this.fence = fence ? formatFence(fence) : undefined;
  }

  // ---- paths ----

  path(res: ResourceInfo, namespace: string | undefined, name?: string, subresource?: string): string {
    let p = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
    if (res.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${res.resource}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  // ---- verbs ----

  get<T extends KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', this.path(res, namespace, name));
  }

  async list<T extends KubeObject>(res: ResourceInfo, namespace?: string, opts: ListOptions = {}): Promise<ListResult<T>> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.continue) q.set('continue', opts.continue);
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    const body = await this.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', this.path(res, namespace), undefined, q);
    const kind = res.kind;
    const items = (body.items ?? []).map((it) => ({ ...it, apiVersion: it.apiVersion ?? groupVersion(res), kind: it.kind ?? kind }));
    const out: ListResult<T> = { items, resourceVersion: body.metadata?.resourceVersion ?? '' };
    if (body.metadata?.continue) out.continue = body.metadata.continue;
    return out;
  }

  create<T extends KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const q = opts.dryRun ? new URLSearchParams({ dryRun: 'All' }) : undefined;
    return this.request<T>('POST', this.path(res, namespace), { apiVersion: groupVersion(res), kind: res.kind, ...obj }, q);
  }

  update<T extends KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts: { subresource?: 'status' } = {}): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new TriremeError('BadRequest', 'update needs metadata.name');
    return this.request<T>('PUT', this.path(res, namespace, name, opts.subresource), { apiVersion: groupVersion(res), kind: res.kind, ...obj });
  }

  patch<T extends KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, body: unknown, opts: { subresource?: string } = {}): Promise<T> {
    return this.request<T>('PATCH', this.path(res, namespace, name, opts.subresource), body, undefined, PATCH_TYPES[type]);
  }

  delete(res: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject> {
    return this.request<KubeObject>('DELETE', this.path(res, namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', ...opts });
  }

  createSubresource<T>(res: ResourceInfo, namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<T> {
    return this.request<T>('POST', this.path(res, namespace, name, subresource), body);
  }

  /** A raw request to any path; JSON in and out. */
  async request<T>(method: string, path: string, body?: unknown, query?: URLSearchParams, contentType = 'application/json'): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = data ? { 'Content-Type': contentType, 'Content-Length': String(data.length) } : {};
    const tried = new Set<string>();
    let last: TriremeError | undefined;
    for (;;) {
      const server = this.nextServer(tried);
      if (server === undefined) throw last ?? new TriremeError('ServiceUnavailable', `${method} ${path}: no API server to try`);
      tried.add(server);
      let answer: { code: number; text: string };
      try {
        answer = await this.send(server, method, path, query, headers, data, this.isLastServer(tried));
      } catch (e) {
        if (!(e instanceof ConnectFailure)) throw e;
        last = e.error;
        if (!this.balancer) throw e.error;
        if (!e.stale) this.balancer.reportConnectFailure(server, e.original);
        this.log.debug({ server, err: e.original.message, method, path }, 'cannot connect; trying the next server');
        continue;
      }
      this.balancer?.reportAnswered(server);
      return decodeAnswer<T>(method, path, answer.code, answer.text);
    }
  }

  /** One attempt on one server: the status and body, a ConnectFailure, or a TriremeError after sending. */
  private send(server: string, method: string, path: string, query: URLSearchParams | undefined, headers: Record<string, string>, data: Buffer | undefined, last: boolean): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = https.request(this.options(server, method, path, query, headers), (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new TriremeError('ServiceUnavailable', `${method} ${path}: ${e.message}`, { cause: e, context: { server } })));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      const phase = this.guardConnect(req, server, `${method} ${path}`, last);
      // A request that gets no answer in time is a Timeout; one that cannot reach the server is unavailability.
      req.on('error', (e) => {
        if (!phase.connected()) reject(new ConnectFailure(phase.error(e), e));
        // The keep-alive race: the server closed a pooled socket as we reused it. A read is safe to send again.
        else if (req.reusedSocket && !answered && IDEMPOTENT.has(method) && (e as NodeJS.ErrnoException).code === 'ECONNRESET') reject(new ConnectFailure(phase.error(e), e, true));
        else reject(e instanceof TriremeError ? e : new TriremeError('ServiceUnavailable', `${method} ${path}: ${e.message}`, { cause: e, context: { server } }));
      });
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new TriremeError('Timeout', `${method} ${path}: the server sent nothing for ${this.requestTimeoutMs} ms`, { context: { server } })));
      req.end(data);
    });
  }

  /**
   * Watches the connect phase of a request: a new socket must connect and finish its TLS
   * handshake in time (else it is destroyed); a reused keep-alive socket is connected already.
   * `last`: no other server is left to try, so the one patient deadline applies.
   * Also turns on TCP keepalive for new sockets.
   */
  private guardConnect(req: ClientRequest, server: string, what: string, last: boolean): { connected(): boolean; error(e: Error): TriremeError } {
    let connected = false;
    let timer: Timer | undefined;
    const clear = () => {
      if (timer) this.clock.clearTimeout(timer);
      timer = undefined;
    };
    req.on('socket', (socket: Socket) => {
      if (req.reusedSocket) {
        connected = true;
        return;
      }
      socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
      const expire = (ms: number, step: string) => {
        clear();
        timer = this.clock.setTimeout(() => {
          const e = Object.assign(new Error(`${step} to ${server} timed out after ${ms} ms`), { code: 'ETIMEDOUT' });
          socket.destroy(e);
        }, ms);
      };
      if (last) {
        expire(this.lastServerConnectTimeoutMs, 'TCP connect and TLS handshake');
      } else {
        expire(this.connectTimeoutMs, 'TCP connect');
        socket.once('connect', () => expire(Math.max(0, this.handshakeTimeoutMs - this.connectTimeoutMs), 'TLS handshake'));
      }
      socket.once('secureConnect', () => {
        connected = true;
        clear();
      });
      socket.once('close', clear);
    });
    return {
      connected: () => connected,
      error: (e) => new TriremeError('ServiceUnavailable', `${what}: cannot connect to ${server}: ${e.message}`, { cause: e, context: { server, connect: true } }),
    };
  }

  /** Opens a watch. Events arrive in order; onEnd is called once (with an error unless the server simply closed). */
  watch(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): { stop(): void } {
    const q = new URLSearchParams({ watch: 'true', resourceVersion: opts.resourceVersion });
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.allowWatchBookmarks) q.set('allowWatchBookmarks', 'true');
    if (opts.timeoutSeconds) q.set('timeoutSeconds', String(opts.timeoutSeconds));
    const silenceMs = opts.silenceLimitMs ?? (opts.allowWatchBookmarks ? WATCH_SILENCE_LIMIT_MS : undefined);
    let ended = false;
    let stopped = false;
    let req: ClientRequest | undefined;
    let silence: Timer | undefined;
    const finish = (err?: Error) => {
      if (ended) return;
      ended = true;
      if (silence) this.clock.clearTimeout(silence);
      if (!stopped) onEnd(err);
    };
    const path = this.path(res, namespace);
    const tried = new Set<string>();
    let last: TriremeError | undefined;
    const attempt = () => {
      if (ended || stopped) return;
      const server = this.nextServer(tried);
      if (server === undefined) {
        finish(last ?? new TriremeError('ServiceUnavailable', `watch ${path}: no API server to try`));
        return;
      }
      tried.add(server);
      // Heard nothing, not even a heartbeat, for too long: the server is gone without a FIN.
      const heard = () => {
        if (silenceMs === undefined || ended) return;
        if (silence) this.clock.clearTimeout(silence);
        silence = this.clock.setTimeout(() => {
          this.balancer?.reportSilence(server);
          finish(new TriremeError('Timeout', `watch ${path}: nothing from ${server} for ${silenceMs} ms`, { context: { server } }));
          req?.destroy();
        }, silenceMs);
      };
      const r = https.request(this.options(server, 'GET', path, q, {}), (resp: IncomingMessage) => {
        this.balancer?.reportAnswered(server);
        heard();
        if ((resp.statusCode ?? 0) !== 200) {
          const chunks: Buffer[] = [];
          resp.on('data', (c: Buffer) => chunks.push(c));
          resp.on('end', () => {
            let status: StatusLike | undefined;
            try { status = JSON.parse(Buffer.concat(chunks).toString()) as StatusLike; } catch { status = undefined; }
            finish(errorFromStatus(resp.statusCode ?? 0, status, `watch ${path}`));
          });
          return;
        }
        let buf = '';
        resp.setEncoding('utf8');
        resp.on('data', (chunk: string) => {
          heard();
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line || ended) continue;
            let ev: { type: string; object: KubeObject };
            try {
              ev = JSON.parse(line) as { type: string; object: KubeObject };
            } catch (e) {
              finish(new TriremeError('Internal', `watch ${path}: undecodable event: ${(e as Error).message}`));
              r.destroy();
              return;
            }
            if (ev.type === 'ERROR') {
              const st = ev.object as StatusLike;
              finish(errorFromStatus(st.code ?? 500, st, `watch ${path}`));
              r.destroy();
              return;
            }
            try {
              onEvent(ev as WatchEvent);
            } catch (err) {
              this.log.error({ err, path }, 'watch handler threw');
            }
          }
        });
        resp.on('end', () => finish());
        resp.on('error', (e) => finish(e));
        resp.on('close', () => finish());
      });
      req = r;
      const phase = this.guardConnect(r, server, `watch ${path}`, this.isLastServer(tried));
      r.on('error', (e) => {
        if (!phase.connected() && !ended && !stopped && this.balancer) {
          last = phase.error(e);
          this.balancer.reportConnectFailure(server, e);
          attempt();
          return;
        }
        finish(phase.connected() ? new TriremeError('ServiceUnavailable', `watch ${path}: ${e.message}`, { cause: e, context: { server } }) : phase.error(e));
      });
      heard();
      r.end();
    };
    attempt();
    return {
      stop: () => {
        stopped = true;
        if (silence) this.clock.clearTimeout(silence);
        req?.destroy();
      },
    };
  }

  /** Whether no server is left to try after the ones in `tried` (which include the current one). */
  private isLastServer(tried: ReadonlySet<string>): boolean {
    return this.nextServer(tried) === undefined;
  }

  private nextServer(tried: ReadonlySet<string>): string | undefined {
    if (this.closed) return undefined;
    if (!this.balancer) return tried.size === 0 ? this.config.server : undefined;
    return this.balancer.pick(tried);
  }

  /** The keep-alive pool for one server (created on first use). */
  private agentFor(server: string): https.Agent {
    let agent = this.agents.get(server);
    if (!agent) {
      agent = new https.Agent({
        keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_MS, maxSockets: this.maxSockets,
        ca: this.config.caPem, ...(this.config.certPem && this.config.keyPem ? { cert: this.config.certPem, key: this.config.keyPem } : {}),
      });
      this.agents.set(server, agent);
    }
    return agent;
  }

  /** Destroys every socket to a server marked down: requests on them fail now, not after a timeout. */
  private dropAgent(server: string): void {
    const agent = this.agents.get(server);
    if (!agent) return;
    this.agents.delete(server);
    agent.destroy();
  }

  private options(server: string, method: string, path: string, query: URLSearchParams | undefined, headers: Record<string, string>): https.RequestOptions {
    const base = new URL(server);
    const qs = query && [...query.keys()].length ? `?${query.toString()}` : '';
    return {
      protocol: 'https:', hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port || 443,
      method, path: `${base.pathname.replace(/\/$/, '')}${path}${qs}`, agent: this.agentFor(server),
      headers: {
        Accept: 'application/json', 'User-Agent': this.config.userAgent ?? 'trireme',
        ...(this.config.token ? { Authorization: `Bearer ${this.config.token}` } : {}),
        ...(this.fence !== undefined && method !== 'GET' && method !== 'HEAD' ? { [FENCE_HEADER]: this.fence } : {}),
        ...headers,
      },
    };
  }
}

/** A JSON answer, or the error its status stands for. */
function decodeAnswer<T>(method: string, path: string, code: number, text: string): T {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (code >= 200 && code < 300) {
    if (parsed === undefined && text) throw new TriremeError('Internal', `${method} ${path}: the answer is not JSON`);
    return parsed as T;
  }
  throw errorFromStatus(code, parsed as StatusLike | undefined, `${method} ${path}`);
}
