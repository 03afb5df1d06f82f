// The API server side of the benchmark: ConfigMap create/get/list as single requests, and a
// watch fan-out target with one HTTPS connection per watcher.
// Guarantees: every operation checks its HTTP status (a 4xx/5xx is a failure, not a fast
// success); list responses are checked to hold the expected number of items; watch streams
// are parsed line by line and closed by the returned closer. Measured loops use `rawOps`
// (lean connections); setup and the fan-out's watches and writes use node:https.
// Does not: use protobuf or tables: plain JSON throughout, as the benchmark specifies.
import type { ClientRequest } from 'node:http';
import type { Agent } from 'node:https';
import { request } from 'node:https';
import { configMapBody } from './configmap.js';
import { nowMs, type FanoutTarget } from './fanout-driver.js';
import { LineSplitter, parseWatchLine } from './fanout.js';
import { adminAgent, send, sendExpect, type Credentials } from './https-client.js';
import type { RawConnection } from './raw-client.js';

export const cmPath = (ns: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`;

export async function apiCreate(creds: Credentials, agent: Agent, ns: string, name: string): Promise<void> {
  await sendExpect(creds, agent, { method: 'POST', path: cmPath(ns), body: configMapBody(ns, name) }, 201);
}

const expectStatus = (what: string, status: number, body: Buffer, want: number): void => {
  if (status !== want) throw new Error(`${what}: HTTP ${status} (want ${want}): ${body.subarray(0, 200).toString('utf8')}`);
};

/** The measured operations, on a lean connection (see raw-client.ts). */
export const rawOps = {
  async create(conn: RawConnection, ns: string, name: string): Promise<void> {
    const res = await conn.request('POST', cmPath(ns), configMapBody(ns, name));
    expectStatus(`create ${ns}/${name}`, res.status, res.body, 201);
  },
  async get(conn: RawConnection, ns: string, name: string): Promise<void> {
    const res = await conn.request('GET', `${cmPath(ns)}/${encodeURIComponent(name)}`);
    expectStatus(`get ${ns}/${name}`, res.status, res.body, 200);
  },
  /** Rejects unless exactly `expectItems` came back (so the body is parsed, as a client would). */
  async list(conn: RawConnection, ns: string, expectItems: number): Promise<void> {
    const res = await conn.request('GET', cmPath(ns));
    expectStatus(`list ${ns}`, res.status, res.body, 200);
    const items = (JSON.parse(res.body.toString('utf8')) as { items?: unknown[] }).items;
    if (items?.length !== expectItems) throw new Error(`list ${ns}: ${items?.length ?? 'no'} items, want ${expectItems}`);
  },
};

/** Creates a namespace; an existing one is fine. */
export async function apiEnsureNamespace(creds: Credentials, agent: Agent, ns: string): Promise<void> {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const res = await send(creds, agent, { method: 'POST', path: '/api/v1/namespaces', body });
  if (res.status !== 201 && res.status !== 409) throw new Error(`create namespace ${ns}: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
}

/** The collection's resourceVersion right now (where watches start). */
export async function apiListRevision(creds: Credentials, agent: Agent, ns: string): Promise<string> {
  const res = await sendExpect(creds, agent, { method: 'GET', path: `${cmPath(ns)}?limit=1` }, 200);
  const rv = (JSON.parse(res.body) as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
  if (typeof rv !== 'string') throw new Error(`list ${ns} has no resourceVersion`);
  return rv;
}

/** Opens one watch stream; resolves when its response headers arrived (status 200). */
function openWatch(creds: Credentials, agent: Agent, path: string, onLine: (line: string) => void): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, creds.server), { method: 'GET', headers: { Accept: 'application/json' }, agent, timeout: 60_000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
        return;
      }
      const lines = new LineSplitter();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const line of lines.push(chunk)) onLine(line);
      });
      res.on('error', () => undefined); // closed by us at the end: nothing to report
      resolve(req);
    });
    req.on('timeout', () => req.destroy(new Error(`watch ${path}: idle for 60 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Fan-out over HTTPS: watchers on `ns`, writes are ConfigMap creates in `ns`. */
export function apiFanoutTarget(creds: Credentials, ns: string): FanoutTarget {
  const writer = adminAgent(creds, 1);
  return {
    async openWatchers(n, onEvent) {
      // One connection per watch stream, as separate clients would have.
      const agent = adminAgent(creds, n);
      const rv = await apiListRevision(creds, writer, ns);
      const path = `${cmPath(ns)}?watch=true&resourceVersion=${encodeURIComponent(rv)}`;
      const reqs: ClientRequest[] = [];
      const close = (): void => {
        for (const r of reqs) r.destroy();
        agent.destroy();
        writer.destroy();
      };
      try {
        for (let i = 0; i < n; i++) {
          reqs.push(await openWatch(creds, agent, path, (line) => {
            const at = nowMs();
            const ev = parseWatchLine(line);
            if (ev?.type === 'ADDED' && ev.name !== undefined) onEvent(i, ev.name, at);
          }));
        }
      } catch (e) {
        close();
        throw e;
      }
      return close;
    },
    write: (name) => apiCreate(creds, writer, ns, name),
  };
}
