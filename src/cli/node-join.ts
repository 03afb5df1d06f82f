// How an agent gets its credentials: with a join token it fetches the cluster CA (checking it
// against the hash the token pins), then asks the server for its node certificates. They are
// kept in `DATA/agent/credentials/` and reused on restart, so the token is needed only once.
import https from 'node:https';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TriremeError } from '../errors.js';
import { parseJoinToken } from '../apiserver/tokens.js';
import { writePrivateFile } from '../apiserver/pki.js';
import type { NodeCredentials } from '../apiserver/node-credentials.js';

const FILES: Record<keyof NodeCredentials, string> = {
  caPem: 'ca.crt', clientCertPem: 'client.crt', clientKeyPem: 'client.key', servingCertPem: 'serving.crt', servingKeyPem: 'serving.key',
};

export async function loadOrJoin(dataDir: string, server: string, token: string | undefined, nodeName: string, nodeIp: string): Promise<NodeCredentials> {
  const dir = join(dataDir, 'agent', 'credentials');
  try {
    const entries = await Promise.all(Object.entries(FILES).map(async ([k, f]) => [k, await readFile(join(dir, f), 'utf8')] as const));
    const creds = Object.fromEntries(entries) as unknown as NodeCredentials;
    const cn = new X509Certificate(creds.clientCertPem).subject;
    if (cn.includes(`CN=system:node:${nodeName}`)) return creds;
  } catch {
    // Not joined yet (or files incomplete): join below.
  }
  if (!token) throw new TriremeError('BadRequest', `no credentials in ${dir}: --token is needed to join the cluster`);
  const creds = await join_(server, token, nodeName, nodeIp);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [k, f] of Object.entries(FILES)) await writePrivateFile(join(dir, f), creds[k as keyof NodeCredentials]);
  return creds;
}

async function join_(server: string, token: string, nodeName: string, nodeIp: string): Promise<NodeCredentials> {
  const { caHash, secret } = parseJoinToken(token);
  // The CA is fetched without verification, then trusted only if it matches the token's pin.
  const caPem = (await httpsRequest(server, '/cacerts', 'GET', { rejectUnauthorized: false })).toString('utf8');
  if (caHash) {
    const der = new X509Certificate(caPem).raw;
    const actual = createHash('sha256').update(der).digest('hex');
    if (actual !== caHash.toLowerCase()) throw new TriremeError('Forbidden', `the server's CA (sha256 ${actual}) is not the one the join token pins (${caHash})`);
  }
  const body = JSON.stringify({ nodeName, nodeIp });
  const answer = await httpsRequest(server, '/trireme/v1/node-credentials', 'POST', { ca: caPem, headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' } }, body);
  return JSON.parse(answer.toString('utf8')) as NodeCredentials;
}

function httpsRequest(server: string, path: string, method: string, opts: https.RequestOptions, body?: string): Promise<Buffer> {
  const url = new URL(path, server);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        if ((res.statusCode ?? 0) >= 300) reject(new TriremeError('Forbidden', `${method} ${url.href}: HTTP ${res.statusCode}: ${data.toString('utf8').slice(0, 300)}`));
        else resolve(data);
      });
    });
    req.on('error', (e) => reject(new TriremeError('ServiceUnavailable', `${method} ${url.href}: ${e.message}`, { cause: e })));
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}
