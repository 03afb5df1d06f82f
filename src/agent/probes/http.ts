// httpGet probes, as the kubelet runs them.
// Guarantees: a status in 200..399 is success, anything else (including connection errors and
// no response head within the timeout) is failure; HTTPS certificates are not verified (like the
// kubelet); redirects are not followed (a 3xx is success, as the kubelet treats redirects it does
// not follow). Does not: send a body, keep connections alive between runs.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { ProbeOutcome } from './types.js';

export interface HttpProbeTarget {
  scheme: 'HTTP' | 'HTTPS';
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
}

/** How much of the body we read, for the failure message (the kubelet keeps 10 KiB). */
const MAX_BODY = 10 * 1024;
const USER_AGENT = 'kube-probe/1.32';

export function httpUrl(t: HttpProbeTarget): string {
  const host = isIP(t.host) === 6 ? `[${t.host}]` : t.host;
  const path = t.path.startsWith('/') ? t.path : `/${t.path}`;
  return `${t.scheme.toLowerCase()}://${host}:${t.port}${path}`;
}

export function httpProbe(t: HttpProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const url = httpUrl(t);
  // User headers replace our defaults by name (case-insensitively) and may repeat.
  const headers: Record<string, string | string[]> = { 'user-agent': USER_AGENT, accept: '*/*' };
  const user = new Map<string, string[]>();
  for (const h of t.headers) user.set(h.name.toLowerCase(), [...(user.get(h.name.toLowerCase()) ?? []), h.value]);
  for (const [k, v] of user) headers[k] = v.length === 1 ? v[0]! : v;
  const mod = t.scheme === 'HTTPS' ? https : http;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(o);
    };
    const req = mod.request(url, {
      method: 'GET',
      headers,
      agent: false,
      ...(t.scheme === 'HTTPS' ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      const code = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c.subarray(0, MAX_BODY - size));
        size += c.length;
        if (size >= MAX_BODY) end();
      });
      const end = (): void => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (code >= 200 && code < 400) finish({ success: true, message: '' });
        else finish({ success: false, message: `HTTP probe failed with statuscode: ${code}${body ? `: ${body.trim()}` : ''}`.slice(0, 1024) });
      };
      res.on('end', end);
      res.on('error', end);
    });
    const timer = setTimeout(() => {
      finish({ success: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    }, timeoutMs);
    const onAbort = (): void => finish({ success: false, message: `Get "${url}": probe cancelled` });
    signal?.addEventListener('abort', onAbort);
    req.on('error', (e) => finish({ success: false, message: `Get "${url}": ${e.message}` }));
    req.end();
  });
}
