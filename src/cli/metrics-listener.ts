// The metrics endpoint of a standalone controller manager or scheduler
// (`--metrics-bind-address HOST:PORT`): plain HTTP serving GET /metrics (the process's registry)
// and GET /healthz. Plain HTTP because these components hold only client credentials (a
// kubeconfig), no serving certificate; bind it to loopback or a monitoring network. Off unless
// the flag is given. Guarantees: answers only GET/HEAD on those two paths (others 404/405);
// `stop()` closes it. Does not: authenticate (whoever reaches the address can read the metrics).
import http from 'node:http';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import type { Registry } from 'prom-client';
import type { Logger } from '../util/log.js';

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT` or `[V6]:PORT`; port 0 lets the OS choose. */
export function parseBindAddress(v: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:[\]]+):(\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`expected HOST:PORT (like 127.0.0.1:10257), not ${JSON.stringify(v)}`);
  const host = m[1]!;
  if (isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host)) throw new InvalidArgumentError(`not a host name or IP address: ${host}`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port > 65535) throw new InvalidArgumentError(`port out of range: ${m[2]}`);
  return { host, port };
}

export function metricsBindOption(cmd: Command): Command {
  return cmd.option('--metrics-bind-address <host:port>', 'serve /metrics and /healthz over plain HTTP here (off when not given)', parseBindAddress);
}

export interface MetricsListener {
  port: number;
  stop(): Promise<void>;
}

export async function startMetricsListener(at: HostPort, registry: Registry, log: Logger): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then((body) => {
      res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
    }, (err: unknown) => {
      log.error({ err }, 'collecting metrics failed');
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('collecting metrics failed\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ address: `${at.host}:${port}` }, 'serving /metrics');
  return {
    port,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
