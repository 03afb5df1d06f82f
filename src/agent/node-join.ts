// How an agent gets its credentials: with a join token it fetches the cluster CA (checking it
// against the hash the token pins), then asks the server for its node certificates. They are
// kept in `DATA/agent/credentials/` and reused on restart, so the token is needed only once.
// Guarantees: every failure is a TriremeError whose code says what to do and whose message is one
// line fit for the CLI (`joinFailure`, a pure mapping of the HTTP outcome): 401/403 → the token or
// the credentials are refused (no retry); 404 → the server does not serve the join endpoint (no
// retry); 400 → the server's own message (no retry); 429/5xx and network errors (refused,
// unreachable, timed out) → the server is unavailable, retried with backoff (0.5 s doubling to
// 8 s) until `retryForMs` (default 60 s) has passed, one warn line per retry. A CA that differs
// from the token's pin is Forbidden, never retried. Does not renew certificates. The join goes to
// the configured server only; later the agent's balancer learns (and remembers) the others.
// A joining server (src/cluster/server-join.ts) reuses the pinned-CA fetch, the request and the retry.
import https from 'node:https';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TriremeError, isTriremeError, type ErrorCode } from '../errors.js';
import { parseJoinToken, type NodeCredentials } from '../api/join.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { writePrivateFile } from '../util/private-file.js';

const FILES: Record<keyof NodeCredentials, string> = {
  caPem: 'ca.crt', clientCertPem: 'client.crt', clientKeyPem: 'client.key', servingCertPem: 'serving.crt', servingKeyPem: 'serving.key',
};

const CREDENTIALS_PATH = '/trireme/v1/node-credentials';

/** Where an agent remembers the API servers it learned (src/client/balancer.ts writes it). */
export function rememberedServersPath(dataDir: string): string {
  return join(dataDir, 'agent', 'servers.json');
}

export interface JoinOptions {
  logger?: Logger;
  clock?: Clock;
  /** How long transient failures (unavailable server) are retried. */
  retryForMs?: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
}

/** Codes worth retrying: the server may come back. */
export function retriable(e: unknown): boolean {
  return isTriremeError(e) && (e.code === 'ServiceUnavailable' || e.code === 'TooManyRequests' || e.code === 'Timeout');
}

/** The message of a Kubernetes Status body, else the body's first line (trimmed). */
function bodyMessage(body: string): string {
  try {
    const s = JSON.parse(body) as { message?: unknown };
    if (typeof s.message === 'string' && s.message !== '') return s.message;
  } catch {
    // not JSON
  }
  return body.split('\n')[0]!.trim().slice(0, 200);
}

/** What an HTTP answer >= 300 to a join request means (pure). */
export function joinFailure(server: string, path: string, status: number, body: string): TriremeError {
  const said = bodyMessage(body);
  const detail = said ? `: ${said}` : '';
  const context = { server, path, status };
  let code: ErrorCode;
  let message: string;
  if (status === 401 || status === 403) {
    code = status === 401 ? 'Unauthorized' : 'Forbidden';
    message = `${server} refused the join token (HTTP ${status}${detail}); check --token (the server's DATA_DIR/token)`;
  } else if (status === 404) {
    code = 'NotFound';
    message = `${server} does not serve ${path} (HTTP 404); is --server the URL of a Trireme API server?`;
  } else if (status === 429) {
    code = 'TooManyRequests';
    message = `${server} is throttling requests (HTTP 429${detail})`;
  } else if (status >= 500) {
    code = 'ServiceUnavailable';
    message = `${server} is unavailable (HTTP ${status}${detail})`;
  } else {
    code = status === 409 ? 'Conflict' : 'BadRequest';
    message = `${server} rejected the join request (HTTP ${status}${detail})`;
  }
  return new TriremeError(code, message, { context });
}

/** A network-level failure of a join request (pure). */
export function joinNetworkFailure(server: string, err: NodeJS.ErrnoException): TriremeError {
  const timedOut = err.code === 'ETIMEDOUT' || err.message === 'timed out';
  const what = timedOut ? 'did not answer in time' : `cannot be reached (${err.code ?? err.message})`;
  return new TriremeError(timedOut ? 'Timeout' : 'ServiceUnavailable', `${server} ${what}`, { cause: err, context: { server } });
}

export async function loadOrJoin(dataDir: string, server: string, token: string | undefined, nodeName: string, nodeIp: string, opts: JoinOptions = {}): Promise<NodeCredentials> {
  const dir = join(dataDir, 'agent', 'credentials');
  const log = opts.logger ?? silentLogger;
  try {
    const entries = await Promise.all(Object.entries(FILES).map(async ([k, f]) => [k, await readFile(join(dir, f), 'utf8')] as const));
    const creds = Object.fromEntries(entries) as unknown as NodeCredentials;
    const cn = new X509Certificate(creds.clientCertPem).subject;
    if (cn.includes(`CN=system:node:${nodeName}`)) return creds;
    log.warn({ dir, nodeName }, 'stored credentials are for another node name; joining again');
  } catch (e) {
    // Not joined yet: join below. Anything else (unreadable, damaged certificate) is said once.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err: e, dir }, 'stored credentials are unusable; joining again');
  }
  if (!token) throw new TriremeError('BadRequest', `no credentials in ${dir}: --token is needed to join the cluster`);
  const creds = await joinWithRetry(server, token, nodeName, nodeIp, opts);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [k, f] of Object.entries(FILES)) await writePrivateFile(join(dir, f), creds[k as keyof NodeCredentials]);
  return creds;
}

function joinWithRetry(server: string, token: string, nodeName: string, nodeIp: string, opts: JoinOptions): Promise<NodeCredentials> {
  return retryJoin(() => joinOnce(server, token, nodeName, nodeIp, opts.requestTimeoutMs ?? 15_000), opts);
}

/** Runs `attempt` until it succeeds, fails for good, or `retryForMs` is spent (see the header). */
export async function retryJoin<T>(attempt: () => Promise<T>, opts: JoinOptions): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? silentLogger;
  const deadline = clock.now() + (opts.retryForMs ?? 60_000);
  for (let delay = 500; ; delay = Math.min(delay * 2, 8000)) {
    try {
      return await attempt();
    } catch (e) {
      if (!retriable(e) || clock.now() + delay > deadline) throw e;
      log.warn({ err: (e as Error).message, retryMs: delay }, 'joining the cluster failed; retrying');
      await new Promise<void>((r) => clock.setTimeout(r, delay));
    }
  }
}

async function joinOnce(server: string, token: string, nodeName: string, nodeIp: string, timeoutMs: number): Promise<NodeCredentials> {
  const { caHash, secret } = parseJoinToken(token);
  const caPem = await fetchPinnedCa(server, caHash, timeoutMs);
  const body = JSON.stringify({ nodeName, nodeIp });
  const answer = await joinRequest(server, CREDENTIALS_PATH, 'POST', { ca: caPem, headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' } }, timeoutMs, body);
  try {
    return JSON.parse(answer.toString('utf8')) as NodeCredentials;
  } catch (e) {
    throw new TriremeError('Internal', `${server} answered ${CREDENTIALS_PATH} with something that is not JSON`, { cause: e, context: { server } });
  }
}

/**
 * The server's CA from /cacerts, fetched without verification and trusted only if it matches
 * the hash the join token pins (none pinned: trusted as fetched). Send no secret before this.
 */
export async function fetchPinnedCa(server: string, caHash: string | undefined, timeoutMs: number): Promise<string> {
  const caPem = (await joinRequest(server, '/cacerts', 'GET', { rejectUnauthorized: false }, timeoutMs)).toString('utf8');
  if (caHash) {
    let actual: string;
    try {
      actual = createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex');
    } catch (e) {
      throw new TriremeError('BadRequest', `${server}/cacerts did not answer a certificate; is --server the URL of a Trireme API server?`, { cause: e, context: { server } });
    }
    if (actual !== caHash.toLowerCase()) throw new TriremeError('Forbidden', `the server's CA (sha256 ${actual}) is not the one the join token pins (${caHash})`, { context: { server } });
  }
  return caPem;
}

/** One HTTPS request of a join; failures are the typed errors of joinFailure / joinNetworkFailure. */
export function joinRequest(server: string, path: string, method: string, opts: https.RequestOptions, timeoutMs: number, body?: string): Promise<Buffer> {
  const url = new URL(path, server);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        if ((res.statusCode ?? 0) >= 300) reject(joinFailure(server, path, res.statusCode ?? 0, data.toString('utf8')));
        else resolve(data);
      });
      res.on('error', (e: NodeJS.ErrnoException) => reject(joinNetworkFailure(server, e)));
    });
    req.on('error', (e: NodeJS.ErrnoException) => reject(joinNetworkFailure(server, e)));
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.end(body);
  });
}
