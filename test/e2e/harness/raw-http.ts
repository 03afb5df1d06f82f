// E2E harness: raw HTTPS to the API server with the admin credentials of a kubeconfig (read by
// the project's one kubeconfig reader, src/client/config.ts).
// Guarantees: the CA is always pinned; every request has a timeout; a response the server sent
// before failing to read a large body (e.g. 413) is still returned.
// Does not: retry or follow redirects.
import { request as httpsRequest } from 'node:https';
import { loadKubeconfig } from '../../../src/client/config.js';

export interface Credentials {
  server: string;
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

/** The current context of a kubeconfig (the admin one the server writes). */
export function readCredentials(kubeconfigPath: string): Credentials {
  const cfg = loadKubeconfig(kubeconfigPath);
  const buf = (pem: string | undefined): Buffer | undefined => (pem === undefined ? undefined : Buffer.from(pem, 'utf8'));
  return { server: cfg.server, ca: Buffer.from(cfg.caPem, 'utf8'), cert: buf(cfg.certPem), key: buf(cfg.keyPem), token: cfg.token };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the admin credentials (default true). The CA is always pinned. */
  auth?: boolean;
  timeoutMs?: number;
}

/** One HTTPS request to the API server; resolves with whatever the server answered. */
export function rawRequest(creds: Credentials, path: string, opts: RawRequest = {}): Promise<RawResponse> {
  const url = new URL(path, creds.server);
  const auth = opts.auth !== false;
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (auth && creds.token !== undefined && creds.cert === undefined) headers.Authorization = `Bearer ${creds.token}`;
  if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = httpsRequest(
      url,
      {
        method: opts.method ?? 'GET',
        headers,
        ca: creds.ca,
        cert: auth ? creds.cert : undefined,
        key: auth ? creds.key : undefined,
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          if (!settled) reject(e);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${path} timed out`)));
    // A server may answer (e.g. 413) and close before it has read a large body: the write then
    // fails, but the answer already arrived and is what we want to see.
    req.on('error', (e) => {
      if (!settled) setTimeout(() => (settled ? undefined : reject(e)), 200);
    });
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
