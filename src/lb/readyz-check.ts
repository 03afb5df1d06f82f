// One active health check of an API server: `GET <url>/readyz` over HTTPS on a fresh
// connection. Used by the balancer's check loop and by `trireme lb --check` (keepalived's
// vrrp_script). /readyz is readable anonymously (auth.ts: system:public-info-viewer), so the
// check needs no credentials.
// Guarantees: resolves (never rejects) with undefined when the answer is 200, or with a one-line
// reason (status code, connect error, timeout) otherwise, within `timeoutMs` (the whole check,
// connect included); the server certificate is verified against `caPem` when given, and not
// verified without it (as HAProxy's `check-ssl verify none`: liveness, not identity).
// Does not: reuse connections (a check must prove a new connection works), or follow redirects.
import https from 'node:https';

export interface ReadyzOptions {
  timeoutMs: number;
  caPem?: string;
  /** Path to ask for (default /readyz). */
  path?: string;
}

export function checkReadyz(baseUrl: string, opts: ReadyzOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(v);
    };
    const url = new URL(opts.path ?? '/readyz', baseUrl);
    const req = https.request(url, {
      method: 'GET', agent: false, headers: { accept: 'text/plain' },
      rejectUnauthorized: opts.caPem !== undefined, ...(opts.caPem !== undefined ? { ca: opts.caPem } : {}),
    }, (res) => {
      res.resume();
      finish(res.statusCode === 200 ? undefined : `GET ${url.pathname} answered ${res.statusCode ?? '?'}`);
    });
    const timer = setTimeout(() => finish(`GET ${url.pathname} timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(`GET ${url.pathname}: ${e.code ?? e.message}`));
    req.end();
  });
}
