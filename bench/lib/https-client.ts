// A minimal HTTPS client for benchmarking the API server: admin credentials from the
// kubeconfig the server writes, keep-alive agents, and one request → status + body.
// Guarantees: the server's CA is pinned (no `rejectUnauthorized: false`); every request has a
// timeout, so a stuck server cannot hang a benchmark; bodies are read fully before resolving.
// Does not: retry, follow redirects, or decode anything but UTF-8 text.
import { Agent, request } from 'node:https';
import { loadKubeconfig, type ClientConfig } from '../../src/client/config.js';

/** What a client needs to talk to the server as admin; plain data, so it crosses threads. */
export interface Credentials {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

/** The admin credentials of a client config (the kubeconfig the server writes). */
export function credentialsOf(cfg: ClientConfig): Credentials {
  if (cfg.certPem === undefined || cfg.keyPem === undefined) throw new Error(`kubeconfig for ${cfg.server} has no client certificate and key`);
  return { server: cfg.server, ca: cfg.caPem, cert: cfg.certPem, key: cfg.keyPem };
}

/** The current context of a kubeconfig (src/client/config.ts reads it), as admin credentials. */
export function readCredentials(kubeconfigPath: string): Credentials {
  return credentialsOf(loadKubeconfig(kubeconfigPath));
}

/** A keep-alive agent holding at most `maxSockets` connections, authenticated as admin. */
export function adminAgent(creds: Credentials, maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca: creds.ca, cert: creds.cert, key: creds.key });
}

export interface Response {
  status: number;
  body: string;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: string;
  timeoutMs?: number;
}

/** One request over `agent`; rejects on network errors and timeouts, never on HTTP status. */
export function send(creds: Credentials, agent: Agent, spec: RequestSpec): Promise<Response> {
  const url = new URL(spec.path, creds.server);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (spec.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(spec.body));
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method: spec.method, headers, agent, timeout: spec.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${spec.method} ${spec.path} timed out`)));
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** Like `send`, but rejects unless the status is `expect` (the message carries the body's start). */
export async function sendExpect(creds: Credentials, agent: Agent, spec: RequestSpec, expect: number): Promise<Response> {
  const res = await send(creds, agent, spec);
  if (res.status !== expect) throw new Error(`${spec.method} ${spec.path}: HTTP ${res.status} (want ${expect}): ${res.body.slice(0, 200)}`);
  return res;
}
