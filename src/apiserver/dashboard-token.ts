// Dashboard tokens: short-lived, read-only bearer tokens an admin mints for a browser
// (POST /trireme/v1/dashboard/tokens, `trireme dashboard`). A token is
// `trd1.<base64url payload>.<base64url HMAC-SHA256>`, the payload `{"sub","iat","exp"}` in
// seconds. The HMAC key is derived (HKDF-SHA256) from the cluster CA key, which every server of a
// cluster holds, so a token minted by one server is accepted by all and nothing is stored.
// Guarantees: verification is constant time over the signature, refuses anything malformed,
// unsigned by this cluster, issued in the future or expired; the identity it yields is
// `trireme:dashboard:<sub>` in group `trireme:dashboard` only (auth.ts decides what that may do).
// Does not: revoke a token before it expires (replacing the CA does), or limit where it is used.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { TriremeError } from '../errors.js';
import { DASHBOARD_GROUP, type UserInfo } from './auth.js';

export const DASHBOARD_USER_PREFIX = 'trireme:dashboard:';
export const DASHBOARD_TOKEN_PATH = '/trireme/v1/dashboard/tokens';
const PREFIX = 'trd1.';
export const DEFAULT_TTL_SECONDS = 8 * 3600;
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 24 * 3600;

export interface DashboardTokens {
  mint(subject: string, nowMs: number, ttlSeconds?: number): { token: string; expiresAt: string };
  /** The token's identity, or undefined when it is not a valid, current dashboard token. */
  verify(token: string, nowMs: number): UserInfo | undefined;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function isDashboardToken(token: string): boolean {
  return token.startsWith(PREFIX);
}

export function createDashboardTokens(caKeyPem: string): DashboardTokens {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(caKeyPem), Buffer.alloc(0), Buffer.from('trireme dashboard token v1'), 32));
  const sign = (body: string): Buffer => createHmac('sha256', key).update(body).digest();
  return {
    mint(subject, nowMs, ttlSeconds = DEFAULT_TTL_SECONDS) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS) {
        throw new TriremeError('BadRequest', `ttlSeconds must be a whole number from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}, got ${JSON.stringify(ttlSeconds)}`);
      }
      if (subject === '') throw new TriremeError('BadRequest', 'a dashboard token needs a subject');
      const iat = Math.floor(nowMs / 1000);
      const exp = iat + ttlSeconds;
      const body = `${PREFIX}${b64url(JSON.stringify({ sub: subject, iat, exp }))}`;
      return { token: `${body}.${b64url(sign(body))}`, expiresAt: new Date(exp * 1000).toISOString() };
    },
    verify(token, nowMs) {
      if (!token.startsWith(PREFIX)) return undefined;
      const dot = token.lastIndexOf('.');
      if (dot <= PREFIX.length) return undefined;
      const body = token.slice(0, dot);
      const sig = Buffer.from(token.slice(dot + 1), 'base64url');
      const want = sign(body);
      if (sig.length !== want.length || !timingSafeEqual(sig, want)) return undefined;
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(body.slice(PREFIX.length), 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      const c = claims as { sub?: unknown; iat?: unknown; exp?: unknown };
      if (typeof c.sub !== 'string' || c.sub === '' || typeof c.iat !== 'number' || typeof c.exp !== 'number') return undefined;
      const now = nowMs / 1000;
      // A minute of leeway for servers whose clocks differ a little.
      if (c.iat > now + 60 || c.exp <= now) return undefined;
      return { name: `${DASHBOARD_USER_PREFIX}${c.sub}`, groups: [DASHBOARD_GROUP] };
    },
  };
}
