// Asking one etcd member over TLS (with the client certificate) whether it is serving:
// GET /health, and the gRPC gateway's maintenance status (POST /v3/maintenance/status) for the
// learner case, where /health may say false although the member runs and follows the leader.
// Guarantees: every request has its own timeout; answers are parsed, never trusted blindly.
// Does not: retry (callers poll), or judge the cluster (membership.ts does).
import { request } from 'node:https';
import type { EtcdClientTls } from './tls.js';

export interface MemberProbe {
  /** /health said true. */
  healthy: boolean;
  /** Maintenance status answered: whether the member is a learner and who it thinks leads ('0' = nobody). */
  status?: { isLearner: boolean; leader: string; raftIndex: number };
}

function call(url: string, tls: EtcdClientTls, method: 'GET' | 'POST', body: string | undefined, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, timeout: timeoutMs, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new Error(`${url}: not JSON (HTTP ${res.statusCode}): ${text.slice(0, 200)}`, { cause: e }));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Probes the member at `clientUrl`; rejects when it does not answer at all. */
export async function probeMember(clientUrl: string, tls: EtcdClientTls, timeoutMs = 2_000): Promise<MemberProbe> {
  const base = clientUrl.replace(/\/$/, '');
  const health = (await call(`${base}/health`, tls, 'GET', undefined, timeoutMs)) as { health?: unknown };
  const out: MemberProbe = { healthy: health.health === 'true' };
  if (out.healthy) return out;
  const st = (await call(`${base}/v3/maintenance/status`, tls, 'POST', '{}', timeoutMs)) as { isLearner?: unknown; leader?: unknown; raftIndex?: unknown };
  out.status = { isLearner: st.isLearner === true, leader: typeof st.leader === 'string' ? st.leader : '0', raftIndex: Number(st.raftIndex ?? 0) };
  return out;
}

/** Ready: healthy, or a running learner that knows its leader. */
export function probeIsReady(p: MemberProbe): boolean {
  return p.healthy || (p.status !== undefined && p.status.isLearner && p.status.leader !== '0');
}
