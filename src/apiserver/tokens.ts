// The cluster join token, DATA/token, in the k3s format `K10<ca-hash>::server:<secret>`:
// the hash pins the CA (SHA-256 of its DER) so a joining machine can trust the server it
// first reaches, the secret authenticates it. Guarantees: the token is generated once,
// written 0600, and never changed by later starts; comparisons are constant time.
// Does not: rotate or expire tokens, or decide what a token holder may do (auth.ts does).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TriremeError } from '../errors.js';
import type { UserInfo } from './auth.js';
import { JOIN_TOKEN_PREFIX, parseJoinToken } from '../api/join.js';
import { caFingerprint, writePrivateFile } from './pki.js';

const HASH = /^[0-9a-f]{64}$/i;
/** The role part of tokens we write; k3s uses `server` for the server token too. */
export const JOIN_TOKEN_ROLE = 'server';

/** Who a join-token secret authenticates as, when the API server maps it to a user. */
export const JOIN_TOKEN_USER: UserInfo = { name: 'system:bootstrap:trireme', groups: ['system:bootstrappers'] };

export function joinTokenPath(dataDir: string): string {
  return join(dataDir, 'token');
}

export function formatJoinToken(caCertPem: string, secret: string): string {
  return `${JOIN_TOKEN_PREFIX}${caFingerprint(caCertPem)}::${JOIN_TOKEN_ROLE}:${secret}`;
}

export { parseJoinToken, type ParsedJoinToken } from '../api/join.js';

/** True when `hash` (hex, any case) is the SHA-256 of this CA certificate's DER. */
export function verifyCaHash(caCertPem: string, hash: string): boolean {
  if (!HASH.test(hash)) return false;
  return timingSafeEqual(Buffer.from(caFingerprint(caCertPem), 'hex'), Buffer.from(hash, 'hex'));
}

/** The stored token, or undefined before the first start wrote one. */
export async function readJoinToken(dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(joinTokenPath(dataDir), 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Returns the stored token, writing a new one on first start. A stored token whose CA hash
 * no longer matches the CA means the CA was replaced; that is refused rather than papered
 * over, because machines holding the old token would trust the wrong CA.
 */
export async function ensureJoinToken(dataDir: string, caCertPem: string): Promise<string> {
  const existing = await readJoinToken(dataDir);
  if (existing !== undefined) {
    const parsed = parseJoinToken(existing);
    if (parsed.caHash !== undefined && !verifyCaHash(caCertPem, parsed.caHash)) {
      throw new TriremeError('Invalid', `${joinTokenPath(dataDir)} pins a different CA than ${dataDir}/tls/ca.crt`);
    }
    return existing;
  }
  const token = formatJoinToken(caCertPem, randomBytes(16).toString('hex'));
  await writePrivateFile(joinTokenPath(dataDir), `${token}\n`);
  return token;
}
