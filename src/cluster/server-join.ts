// A joining server's side of POST /trireme/v1/server-join: fetch the cluster CA and check it
// against the hash the token pins (the agent's join code, src/agent/node-join.ts, reused), only
// then send the token's secret, open the sealed bundle with it, and write the secrets into the
// data dir.
// Guarantees: nothing is sent before the CA matched the pin, and nothing is written before the
// bundle opened and held every file a server needs; failures are the agent join's one-line typed
// errors (a refused token is Unauthorized/Forbidden, never retried; an unavailable server is
// retried for `retryForMs`); only the files in SERVER_SECRET_FILES are written, each atomically
// (ca.key before ca.crt, so a crash never leaves a CA certificate without its key).
// Does not: add the etcd member (src/cluster/managed-store.ts does), or check the token's
// expiry (tokens do not expire yet).
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { openBundle, SERVER_JOIN_PATH, type JoinBundle } from '../api/join-bundle.js';
import { parseJoinToken } from '../api/join.js';
import { fetchPinnedCa, joinRequest, retryJoin, type JoinOptions } from '../agent/node-join.js';
import { TriremeError } from '../errors.js';
import { writePrivateFile } from '../util/private-file.js';

/** What a joiner announces; the server checks it against the store membership. */
export interface ServerJoinRequest {
  name: string;
  peerUrl: string;
  clientUrl: string;
}

/**
 * The files a server receives, in the order they are written, with their modes. `optional`: a
 * snapshot taken (or a server started) before the file existed lacks it, and a restore or join
 * goes on without it (the Secrets keys, src/apiserver/encryption-keys.ts: a store from then holds
 * no encrypted Secret, and the server takes the keys from the store's copy once there is one).
 */
export const SERVER_SECRET_FILES: readonly { path: string; mode: number; optional?: boolean }[] = [
  { path: 'tls/ca.key', mode: 0o600 },
  { path: 'tls/ca.crt', mode: 0o644 },
  { path: 'token', mode: 0o600 },
  { path: 'encryption/keys.json', mode: 0o600, optional: true },
];

export async function requestJoinBundle(server: string, token: string, request: ServerJoinRequest, opts: JoinOptions = {}): Promise<JoinBundle> {
  const { caHash, secret } = parseJoinToken(token);
  const timeoutMs = opts.requestTimeoutMs ?? 15_000;
  const bundle = await retryJoin(async () => {
    const caPem = await fetchPinnedCa(server, caHash, timeoutMs);
    const answer = await joinRequest(server, SERVER_JOIN_PATH, 'POST', { ca: caPem, headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' } }, timeoutMs, JSON.stringify(request));
    let sealed: unknown;
    try {
      sealed = (JSON.parse(answer.toString('utf8')) as { sealed?: unknown }).sealed;
    } catch (e) {
      throw new TriremeError('Internal', `${server} answered ${SERVER_JOIN_PATH} with something that is not JSON`, { cause: e, context: { server } });
    }
    return openBundle(secret, sealed);
  }, opts);
  const missing = SERVER_SECRET_FILES.filter((f) => !f.optional && typeof bundle.files[f.path] !== 'string').map((f) => f.path);
  if (missing.length > 0) throw new TriremeError('Internal', `${server} sent a join bundle without ${missing.join(', ')}`, { context: { server } });
  if (bundle.etcdClientUrls.length === 0) throw new TriremeError('Internal', `${server} sent a join bundle without etcd client URLs`, { context: { server } });
  return bundle;
}

/** Writes the bundle's secrets under `dataDir` (only SERVER_SECRET_FILES, atomically each). */
export async function writeJoinSecrets(dataDir: string, bundle: JoinBundle): Promise<void> {
  for (const f of SERVER_SECRET_FILES) {
    if (bundle.files[f.path] === undefined) continue; // optional, and absent
    const path = join(dataDir, f.path);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writePrivateFile(path, bundle.files[f.path]!, f.mode);
  }
}
