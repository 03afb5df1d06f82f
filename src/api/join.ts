// The join contract between a server and a joining node, shared by both sides: the join token
// format (k3s style, `K10<ca-hash>::<role>:<secret>`; apiserver/tokens.ts writes it) and the
// credentials a node receives from POST /trireme/v1/node-credentials.
// Guarantees: parseJoinToken accepts `K10<hash>::<role>:<secret>`, `K10<hash>::<secret>` or a
// bare secret, and refuses an empty token, a malformed hash or an empty secret (Invalid).
import { TriremeError } from '../errors.js';

export const JOIN_TOKEN_PREFIX = 'K10';
const HASH = /^[0-9a-f]{64}$/i;

export interface ParsedJoinToken {
  /** SHA-256 hex of the CA certificate's DER; absent for a bare secret. */
  caHash?: string;
  /** The `server` in `::server:`; absent when the token has no role part. */
  role?: string;
  secret: string;
}

/** Accepts `K10<hash>::<role>:<secret>`, `K10<hash>::<secret>`, or a bare secret. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const t = token.trim();
  if (t === '') throw new TriremeError('Invalid', 'join token is empty');
  if (!t.startsWith(JOIN_TOKEN_PREFIX) || !t.includes('::')) return { secret: t };
  const sep = t.indexOf('::');
  const caHash = t.slice(JOIN_TOKEN_PREFIX.length, sep).toLowerCase();
  if (!HASH.test(caHash)) throw new TriremeError('Invalid', 'join token CA hash is not 64 hex characters');
  const rest = t.slice(sep + 2);
  const colon = rest.indexOf(':');
  const parsed: ParsedJoinToken = colon < 0 ? { caHash, secret: rest } : { caHash, role: rest.slice(0, colon), secret: rest.slice(colon + 1) };
  if (parsed.secret === '') throw new TriremeError('Invalid', 'join token has an empty secret');
  return parsed;
}

/** What POST /trireme/v1/node-credentials answers: PEM texts. */
export interface NodeCredentials {
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
}
