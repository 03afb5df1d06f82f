// A small typed client of the Trireme (Kubernetes) API over HTTPS keep-alive. Guarantees: every
// non-2xx answer becomes a TriremeError whose code follows the Status reason, else the HTTP
// status (the table of src/api/error-status.ts; context.status holds the Status); a request
// unanswered within its timeout is a Timeout, an unreachable server ServiceUnavailable;
// watches deliver events in order and end exactly once through onEnd.
// With a fence set (setFence), mutating requests carry it (src/api/fence.ts).
// Does not retry: callers (informers, controllers) decide what a failure means.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../api/object.js';
import { groupVersion, type ResourceInfo } from '../api/resources.js';
import { errorCodeOf } from '../api/error-status.js';
import { TriremeError } from '../errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { ClientConfig } from './config.js';
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
}

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
  private readonly agent: https.Agent;
  private readonly base: URL;
  private readonly log: Logger;
  private fence: string | undefined;

  /** A request (not a watch) on which the server sends nothing for this long fails with Timeout. */
  private readonly requestTimeoutMs: number;

  constructor(readonly config: ClientConfig, opts: { logger?: Logger; maxSockets?: number; requestTimeoutMs?: number } = {}) {
    this.base = new URL(config.server);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.log = opts.logger ?? silentLogger;
    this.agent = new https.Agent({
      keepAlive: true, maxSockets: opts.maxSockets ?? 32,
      ca: config.caPem, ...(config.certPem && config.keyPem ? { cert: config.certPem, key: config.keyPem } : {}),
    });
  }

  close(): void {
    this.agent.destroy();
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
  request<T>(method: string, path: string, body?: unknown, query?: URLSearchParams, contentType = 'application/json'): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = https.request(this.options(method, path, query, data ? { 'Content-Type': contentType, 'Content-Length': String(data.length) } : {}), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            if (parsed === undefined && text) reject(new TriremeError('Internal', `${method} ${path}: the answer is not JSON`));
            else resolve(parsed as T);
          } else {
            reject(errorFromStatus(code, parsed as StatusLike | undefined, `${method} ${path}`));
          }
        });
      });
      // A request that gets no answer in time is a Timeout; one that cannot reach the server is unavailability.
      req.on('error', (e) => reject(e instanceof TriremeError ? e : new TriremeError('ServiceUnavailable', `${method} ${path}: ${e.message}`, { cause: e })));
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new TriremeError('Timeout', `${method} ${path}: the server sent nothing for ${this.requestTimeoutMs} ms`)));
      req.end(data);
    });
  }

  /** Opens a watch. Events arrive in order; onEnd is called once (with an error unless the server simply closed). */
  watch(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): { stop(): void } {
    const q = new URLSearchParams({ watch: 'true', resourceVersion: opts.resourceVersion });
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.allowWatchBookmarks) q.set('allowWatchBookmarks', 'true');
    if (opts.timeoutSeconds) q.set('timeoutSeconds', String(opts.timeoutSeconds));
    let ended = false;
    let stopped = false;
    const finish = (err?: Error) => {
      if (ended) return;
      ended = true;
      if (!stopped) onEnd(err);
    };
    const path = this.path(res, namespace);
    const req = https.request(this.options('GET', path, q, {}), (resp: IncomingMessage) => {
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
            req.destroy();
            return;
          }
          if (ev.type === 'ERROR') {
            const st = ev.object as StatusLike;
            finish(errorFromStatus(st.code ?? 500, st, `watch ${path}`));
            req.destroy();
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
    req.on('error', (e) => finish(new TriremeError('ServiceUnavailable', `watch ${path}: ${e.message}`, { cause: e })));
    req.end();
    return {
      stop: () => {
        stopped = true;
        req.destroy();
      },
    };
  }

  private options(method: string, path: string, query: URLSearchParams | undefined, headers: Record<string, string>): https.RequestOptions {
    const qs = query && [...query.keys()].length ? `?${query.toString()}` : '';
    return {
      protocol: 'https:', hostname: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || 443,
      method, path: `${this.base.pathname.replace(/\/$/, '')}${path}${qs}`, agent: this.agent,
      headers: {
        Accept: 'application/json', 'User-Agent': this.config.userAgent ?? 'trireme',
        ...(this.config.token ? { Authorization: `Bearer ${this.config.token}` } : {}),
        ...(this.fence !== undefined && method !== 'GET' && method !== 'HEAD' ? { [FENCE_HEADER]: this.fence } : {}),
        ...headers,
      },
    };
  }
}
