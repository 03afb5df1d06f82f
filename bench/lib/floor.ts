// The physical floor's driver side: capture what the real API server answers to a create and a
// get, then start bench/lib/floor-server.ts as a child process (through the same launcher as the
// real server) that replays those bytes with the real server's TLS setup.
// Guarantees: captured responses are real (status checked: 201 for the create, 200 for the get),
// with the headers Node writes by itself left out (the floor's Node writes them again); the
// floor child is tracked, so it dies with the benchmark.
// Does not: measure anything: the benchmark drives the floor with its load worker.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildTracker } from '../../src/launch/children.js';
import { launchCli } from '../../src/launch/cli-process.js';
import { NODE_OWN_HEADERS, type CannedResponse, type FloorConfig } from './floor-protocol.js';
import { adminAgent, type Credentials } from './https-client.js';

function capture(creds: Credentials, agent: Agent, method: 'GET' | 'POST', path: string, want: number, body?: string): Promise<CannedResponse> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, creds.server), { method, headers, agent, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        if (res.statusCode !== want) {
          reject(new Error(`capture ${method} ${path}: HTTP ${res.statusCode} (want ${want}): ${data.subarray(0, 200).toString('utf8')}`));
          return;
        }
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          const [name, value] = [res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string];
          if (!NODE_OWN_HEADERS.has(name.toLowerCase())) pairs.push([name, value]);
        }
        resolve({ status: want, headers: pairs, bodyBase64: data.toString('base64') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`capture ${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The real server's answer to one create (`createBody` at `collectionPath`) and one get. */
export async function captureResponses(creds: Credentials, collectionPath: string, createBody: string, getPath: string): Promise<{ create: CannedResponse; get: CannedResponse }> {
  const agent = adminAgent(creds, 1);
  try {
    const create = await capture(creds, agent, 'POST', collectionPath, 201, createBody);
    const get = await capture(creds, agent, 'GET', getPath, 200);
    return { create, get };
  } finally {
    agent.destroy();
  }
}

export interface FloorProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface FloorOptions {
  host: string;
  /** The real server's data dir (its certificate and key) and admin kubeconfig. */
  serverDataDir: string;
  kubeconfig: string;
  /** A directory of the floor's own (config, ready file, log). */
  workDir: string;
  responses: { create: CannedResponse; get: CannedResponse };
  tracker: ChildTracker;
}

export async function startFloor(opts: FloorOptions): Promise<FloorProcess> {
  mkdirSync(opts.workDir, { recursive: true });
  const config: FloorConfig = {
    host: opts.host, serverDataDir: opts.serverDataDir, dataDir: opts.workDir, kubeconfig: opts.kubeconfig, ...opts.responses,
  };
  const configFile = join(opts.workDir, 'floor.json');
  writeFileSync(configFile, JSON.stringify(config));
  const p = await launchCli({
    entry: fileURLToPath(new URL('./floor-server.js', import.meta.url)), args: [configFile],
    dataDir: opts.workDir, logFile: join(opts.workDir, 'floor.log'), tracker: opts.tracker, readyTimeoutMs: 30_000,
  });
  const url = p.ready.apiServer?.url;
  if (url === undefined) throw new Error('the floor server wrote no URL');
  return { url, pid: p.pid, stop: async () => { await p.stop(5_000); } };
}
