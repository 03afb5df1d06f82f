// The kubelet API: HTTPS on the node, called by the API server to serve `kubectl logs` and
// `kubectl exec`. Guarantees: every endpoint but /healthz requires a client certificate of the
// API server (see auth.ts); errors are Kubernetes Status JSON; a log stream or exec session ends
// when its client goes away. Endpoints:
//   GET /healthz                                   -> 200 "ok" (no client certificate needed)
//   GET /containerLogs/{ns}/{pod}/{container}?...   -> 200 chunked text/plain
//   GET /exec/{ns}/{pod}/{container}?command=...    -> websocket (v5/v4.channel.k8s.io)
//   GET /metrics                                   -> the agent's Prometheus metrics (src/agent/metrics.ts)
//   GET /stats/summary                              -> resource usage (src/api/stats-summary.ts)
// Does not: serve attach, port-forward or the kubelet's other read endpoints.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Registry as PromRegistry } from 'prom-client';
import type { StatsSummary } from '../../api/stats-summary.js';
import type { Clock } from '../../util/clock.js';
import { logsMissing, readLogs } from '../logs/reader.js';
import type { ContainerContext, ContainerLookup } from '../runtime/context.js';
import { createClientCertCheck } from './auth.js';
import { SUPPORTED_PROTOCOLS, parseProtocolHeader, pickProtocol } from './channel.js';
import { runExecSession } from './exec-session.js';
import { parseContainerPath, parseExecQuery, parseLogQuery, type ContainerRef } from './routes.js';
import { failure, type Status } from './status.js';

export interface KubeletServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  servingCertPem: string;
  servingKeyPem: string;
  caPem: string;
  lookup: ContainerLookup;
  logger: Logger;
  clock?: Clock;
  /** How often a followed log is polled for new output, default 200 ms. */
  logPollMs?: number;
  /** Served at /metrics (404 without). */
  metrics?: PromRegistry;
  /** The latest resource usage (src/agent/stats); undefined before the first sample. */
  stats?: () => StatsSummary | undefined;
}

export interface KubeletServer {
  port: number;
  stop(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 503: 'Service Unavailable' };

function sendStatus(res: ServerResponse, s: Status): void {
  const body = JSON.stringify(s);
  res.writeHead(s.code ?? 500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers an upgrade request that we refuse: a plain HTTP response on the raw socket. */
function refuseUpgrade(socket: Duplex, s: Status): void {
  const body = JSON.stringify(s);
  const code = s.code ?? 500;
  socket.end(`HTTP/1.1 ${code} ${STATUS_TEXT[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function notFound(ref: ContainerRef): Status {
  return failure(404, 'NotFound', `container "${ref.container}" in pod "${ref.pod}" (namespace "${ref.namespace}") not found`);
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const authorize = createClientCertCheck(opts.caPem);
  const log = opts.logger;
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => pickProtocol(offered) ?? false });
  const open = new Set<Duplex>();

  const resolve = (ref: ContainerRef): ContainerContext | undefined => opts.lookup(ref.namespace, ref.pod, ref.container);

  async function serveLogs(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const ref = parseContainerPath(url.pathname, 'containerLogs');
    if (!ref) return sendStatus(res, failure(404, 'NotFound', `no such path ${url.pathname}`));
    const q = parseLogQuery(url.searchParams);
    if ('error' in q) return sendStatus(res, failure(400, 'BadRequest', q.error));
    const ctx = resolve(ref);
    if (!ctx) return sendStatus(res, notFound(ref));
    if (await logsMissing(ctx.logDir, q.previous ?? false)) {
      if (q.previous) return sendStatus(res, failure(400, 'BadRequest', `previous terminated container "${ref.container}" in pod "${ref.pod}" not found`));
      if (!ctx.running) return sendStatus(res, failure(400, 'BadRequest', `container "${ref.container}" in pod "${ref.pod}" is waiting to start: ContainerCreating`));
    }
    const stream = readLogs({
      logDir: ctx.logDir,
      // Ask the pod manager each time: the context we got is a snapshot.
      isRunning: () => resolve(ref)?.running ?? false,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.logPollMs !== undefined ? { pollMs: opts.logPollMs } : {}),
    }, q);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' });
    // kubectl waits for the headers before it prints anything it receives.
    res.flushHeaders();
    pipeline(stream, res, (err) => {
      if (err && err.name !== 'AbortError' && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        log.warn({ err: err.message, pod: `${ref.namespace}/${ref.pod}`, container: ref.container }, 'log stream failed');
      }
    });
  }

  const server = https.createServer({
    key: opts.servingKeyPem,
    cert: opts.servingCertPem,
    ca: opts.caPem,
    requestCert: true,
    // Checked per request so that a missing certificate gets a 401 Status instead of a TLS alert.
    rejectUnauthorized: false,
  }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    const auth = authorize(req.socket as TLSSocket);
    if (!auth.ok) return sendStatus(res, failure(auth.code, auth.code === 401 ? 'Unauthorized' : 'Forbidden', auth.message));
    if (req.method !== 'GET' && req.method !== 'POST') return sendStatus(res, failure(405, 'MethodNotAllowed', `method ${req.method} not allowed`));
    if (url.pathname.startsWith('/containerLogs/')) {
      serveLogs(req, res, url).catch((e: unknown) => {
        log.error({ err: e instanceof Error ? e.message : String(e) }, 'containerLogs failed');
        if (!res.headersSent) sendStatus(res, failure(500, 'InternalError', 'reading the container log failed'));
        else res.destroy();
      });
      return;
    }
    if (url.pathname === '/metrics' && opts.metrics) {
      const registry = opts.metrics;
      registry.metrics().then((body) => {
        res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
      }, (e: unknown) => {
        log.error({ err: e instanceof Error ? e.message : String(e) }, 'metrics failed');
        sendStatus(res, failure(500, 'InternalError', 'collecting metrics failed'));
      });
      return;
    }
    if (url.pathname === '/stats/summary') {
      const summary = opts.stats?.();
      if (!summary) return sendStatus(res, failure(503, 'ServiceUnavailable', 'no resource usage sampled yet'));
      const body = JSON.stringify(summary);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (url.pathname.startsWith('/exec/')) {
      return sendStatus(res, failure(400, 'BadRequest', `exec needs a websocket upgrade with one of the subprotocols ${SUPPORTED_PROTOCOLS.join(', ')}`));
    }
    sendStatus(res, failure(404, 'NotFound', `no such path ${url.pathname}`));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const auth = authorize(req.socket as TLSSocket);
    if (!auth.ok) return refuseUpgrade(socket, failure(auth.code, auth.code === 401 ? 'Unauthorized' : 'Forbidden', auth.message));
    const ref = parseContainerPath(url.pathname, 'exec');
    if (!ref) return refuseUpgrade(socket, failure(404, 'NotFound', `no such path ${url.pathname}`));
    const q = parseExecQuery(url.searchParams);
    if ('error' in q) return refuseUpgrade(socket, failure(400, 'BadRequest', q.error));
    const protocol = pickProtocol(parseProtocolHeader(req.headers['sec-websocket-protocol']));
    if (!protocol) return refuseUpgrade(socket, failure(400, 'BadRequest', `unsupported websocket subprotocol; supported: ${SUPPORTED_PROTOCOLS.join(', ')}`));
    const ctx = resolve(ref);
    if (!ctx) return refuseUpgrade(socket, notFound(ref));
    if (!ctx.running) return refuseUpgrade(socket, failure(400, 'BadRequest', `container "${ref.container}" in pod "${ref.pod}" is not running`));
    wss.handleUpgrade(req, socket, head, (ws) => runExecSession(ws, protocol, ctx, q, log));
  });

  server.on('connection', (s: Duplex) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  log.info({ host: opts.host, port }, 'kubelet API listening');

  return {
    port,
    stop: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of wss.clients) c.terminate();
      // Followed logs and exec sessions never end by themselves: cut them.
      for (const s of open) s.destroy();
      await closed;
    },
  };
}
