// metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics) served by the API server from the agents'
// usage summaries (GET /stats/summary on each node's kubelet API, with the API server's client
// certificate, the agent's serving certificate checked against the cluster CA), the way
// metrics-server answers behind the aggregation layer; `kubectl top` reads it.
// Guarantees: get and list only (405 otherwise); label and field selectors filter as on the core
// resources; each node's summary is fetched at most once per `cacheMs` however many requests
// ask (concurrent requests share one fetch), and a fetch that fails is remembered as long, so a
// dead node costs one timeout per period, not one per request; a node or pod without figures is
// left out of lists and is a 404 when asked for by name. Failures are logged once per node and
// distinct message. Does not: keep history, serve watch, or answer for pods of a node that cannot
// be reached.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeMetrics, podMetrics, METRICS_API_VERSION } from '../api/metrics-api.js';
import type { KubeObject } from '../api/object.js';
import { findByKind } from '../api/resources.js';
import type { PodStats, StatsSummary } from '../api/stats-summary.js';
import { TriremeError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { sendJson } from './http-util.js';
import { objectFilter } from './list-query.js';
import type { Registry } from './registry.js';
import type { ResourceRequest } from './request-info.js';

const NODES = findByKind('v1', 'Node')!;
const PODS = findByKind('v1', 'Pod')!;

export interface ResourceMetricsOptions {
  registry: Registry;
  /** The API server's client identity towards agents, and the CA their certificates chain to. */
  creds: { caPem: string; certPem: string; keyPem: string };
  clock: Clock;
  logger: Logger;
  /** How long a node's summary is reused (default 2 s; agents sample every 5 s by default). */
  cacheMs?: number;
  /** Per-node fetch timeout (default 3 s). */
  timeoutMs?: number;
}

export interface ResourceMetrics {
  serve(req: IncomingMessage, res: ServerResponse, ri: ResourceRequest, query: URLSearchParams): Promise<void>;
  /** The node's latest summary (cached as above); an Error when it cannot be had. */
  summary(node: KubeObject): Promise<StatsSummary | Error>;
}

/** Where a node's agent listens, from its status. */
export function kubeletAddress(node: KubeObject): { host: string; port: number } | undefined {
  const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  const host = status.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
  return host && port ? { host, port } : undefined;
}

export function createResourceMetrics(opts: ResourceMetricsOptions): ResourceMetrics {
  const agent = new https.Agent({ keepAlive: true, ca: opts.creds.caPem, cert: opts.creds.certPem, key: opts.creds.keyPem, maxSockets: 4 });
  const cacheMs = opts.cacheMs ?? 2_000;
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const cache = new Map<string, { at: number; answer: Promise<StatsSummary | Error> }>();
  const logged = new Map<string, string>();

  const fetchSummary = (name: string, where: { host: string; port: number }): Promise<StatsSummary | Error> => new Promise((resolve) => {
    const done = (v: StatsSummary | Error): void => {
      if (v instanceof Error) {
        if (logged.get(name) !== v.message) opts.logger.warn({ node: name, err: v.message }, 'cannot read resource usage from the node agent');
        logged.set(name, v.message);
      } else logged.delete(name);
      resolve(v);
    };
    const req = https.request({
      host: where.host, port: where.port, path: '/stats/summary', method: 'GET', agent, timeout: timeoutMs,
      // SNI must be a host name; for an IP the certificate's IP SAN is checked without it.
      ...(/^[\d.]+$|:/.test(where.host) ? {} : { servername: where.host }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => done(e));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return done(new Error(`node agent ${where.host}:${where.port} answered ${res.statusCode}: ${text.slice(0, 200)}`));
        try {
          done(JSON.parse(text) as StatsSummary);
        } catch (e) {
          done(new Error(`node agent ${where.host}:${where.port} sent a summary that is not JSON: ${(e as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => done(new Error(`node agent ${where.host}:${where.port} is not reachable: ${e.message}`)));
    req.end();
  });

  const summary = (node: KubeObject): Promise<StatsSummary | Error> => {
    const name = node.metadata?.name ?? '';
    const now = opts.clock.now();
    const hit = cache.get(name);
    if (hit && now - hit.at < cacheMs) return hit.answer;
    const where = kubeletAddress(node);
    const answer = where ? fetchSummary(name, where) : Promise.resolve(new Error(`node "${name}" has not published its agent's address`));
    cache.set(name, { at: now, answer });
    // Forget nodes that are gone, so the cache does not grow with node churn.
    for (const [k, v] of cache) if (now - v.at > 10 * cacheMs) cache.delete(k);
    return answer;
  };

  const notFound = (what: 'nodemetrics' | 'podmetrics', name: string): TriremeError =>
    new TriremeError('NotFound', `${what}.metrics.k8s.io "${name}" not found`, { context: { name, group: 'metrics.k8s.io', kind: what === 'nodemetrics' ? 'nodes' : 'pods' } });

  const listOf = (kind: string, items: KubeObject[]): unknown => ({ kind, apiVersion: METRICS_API_VERSION, metadata: {}, items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) });

  async function nodes(ri: ResourceRequest, q: URLSearchParams): Promise<unknown> {
    const now = opts.clock.now();
    if (ri.name !== undefined) {
      const node = await opts.registry.get(NODES, undefined, ri.name);
      const s = await summary(node);
      const m = s instanceof Error ? undefined : nodeMetrics(node, s.node, now);
      if (!m) throw notFound('nodemetrics', ri.name);
      return m;
    }
    const filter = objectFilter(NODES, q);
    const list = (await opts.registry.list(NODES, undefined, filter ? { filter } : {})).items;
    const out = await Promise.all(list.map(async (n) => {
      const s = await summary(n);
      return s instanceof Error ? undefined : nodeMetrics(n, s.node, now);
    }));
    return listOf('NodeMetricsList', out.filter((m): m is KubeObject => m !== undefined));
  }

  async function pods(ri: ResourceRequest, q: URLSearchParams): Promise<unknown> {
    const now = opts.clock.now();
    let list: KubeObject[];
    if (ri.name !== undefined) list = [await opts.registry.get(PODS, ri.namespace, ri.name)];
    else {
      const filter = objectFilter(PODS, q);
      list = (await opts.registry.list(PODS, ri.namespace, filter ? { filter } : {})).items;
    }
    const nodeNames = [...new Set(list.map((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName).filter((n): n is string => !!n))];
    const byUid = new Map<string, PodStats>();
    // A static pod's mirror has a uid of its own: it is found by node and name.
    const byName = new Map<string, PodStats>();
    await Promise.all(nodeNames.map(async (n) => {
      let node: KubeObject;
      try {
        node = await opts.registry.get(NODES, undefined, n);
      } catch (e) {
        if (e instanceof TriremeError && e.code === 'NotFound') return; // its pods have no figures
        throw e;
      }
      const s = await summary(node);
      if (s instanceof Error) return;
      for (const p of s.pods) {
        byUid.set(p.podRef.uid, p);
        byName.set(`${n}/${p.podRef.namespace}/${p.podRef.name}`, p);
      }
    }));
    const out: KubeObject[] = [];
    for (const p of list) {
      const s = byUid.get(p.metadata?.uid ?? '') ?? byName.get(`${(p.spec as { nodeName?: string } | undefined)?.nodeName}/${p.metadata?.namespace}/${p.metadata?.name}`);
      const m = s ? podMetrics(p, s, now) : undefined;
      if (m) out.push(m);
    }
    if (ri.name !== undefined) {
      if (!out[0]) throw notFound('podmetrics', `${ri.namespace}/${ri.name}`);
      return out[0];
    }
    return listOf('PodMetricsList', out);
  }

  return {
    summary,
    async serve(_req, res, ri, q) {
      if (ri.verb !== 'get' && ri.verb !== 'list') throw new TriremeError('MethodNotAllowed', `${ri.verb} is not supported on ${ri.resource}.metrics.k8s.io: only get and list`);
      if (ri.subresource !== undefined) throw new TriremeError('NotFound', 'the server could not find the requested resource');
      if (ri.version !== 'v1beta1') throw new TriremeError('NotFound', 'the server could not find the requested resource');
      if (ri.resource === 'nodes' && ri.namespace === undefined) return sendJson(res, 200, await nodes(ri, q));
      if (ri.resource === 'pods' && (ri.name === undefined || ri.namespace !== undefined)) return sendJson(res, 200, await pods(ri, q));
      throw new TriremeError('NotFound', 'the server could not find the requested resource');
    },
  };
}
