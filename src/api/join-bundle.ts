// The server join bundle (shared contract of POST /trireme/v1/server-join): the cluster's
// bootstrap secrets as files relative to a data dir (`tls/ca.crt`, `tls/ca.key`, `token`, …)
// plus the etcd client URLs, sealed with a key derived from the join token's secret
// (HKDF-SHA256 with a random salt → AES-256-GCM, random 96-bit IV, the format version as
// additional data).
// Guarantees: pure (no I/O); `openBundle` returns only what `sealBundle` sealed with the same
// secret — a wrong secret or any changed byte is one Forbidden error saying so, never garbage;
// every file path in an opened bundle is relative, made of plain segments (no `..`, no `/`
// prefix), so a joiner can write it under its data dir without escaping it.
// Does not: authenticate who asks for a bundle (the API server's bearer check does), or decide
// which files a joiner accepts (the joiner keeps its own list).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { TriremeError } from '../errors.js';

/** Where a joining server asks for the bundle (bearer: the join token's secret). */
export const SERVER_JOIN_PATH = '/trireme/v1/server-join';

export const BUNDLE_VERSION = 'trireme-server-join-v1';
const KEY_INFO = Buffer.from('trireme server-join bundle key');

/** What a joining server receives, once opened. */
export interface JoinBundle {
  /** File contents by path relative to the data dir, e.g. `tls/ca.key`. */
  files: Record<string, string>;
  /** Client URLs of the cluster's etcd members (the joiner adds itself through them). */
  etcdClientUrls: string[];
}

/** The sealed form, as it travels (base64 fields). */
export interface SealedBundle {
  version: typeof BUNDLE_VERSION;
  salt: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** True for a relative path of plain segments (`tls/ca.key`), never `..`, `.`, or absolute. */
export function isSafeRelativePath(p: string): boolean {
  const parts = p.split('/');
  return p !== '' && parts.every((s) => SEGMENT.test(s) && s !== '..' && s !== '.');
}

function deriveKey(secret: string, salt: Buffer): Buffer {
  if (secret === '') throw new TriremeError('Invalid', 'the join token secret is empty');
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, KEY_INFO, 32));
}

export function sealBundle(secret: string, bundle: JoinBundle, random: (n: number) => Buffer = randomBytes): SealedBundle {
  for (const p of Object.keys(bundle.files)) {
    if (!isSafeRelativePath(p)) throw new TriremeError('Invalid', `join bundle file path ${JSON.stringify(p)} is not a plain relative path`);
  }
  const salt = random(16);
  const iv = random(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, salt), iv);
  cipher.setAAD(Buffer.from(BUNDLE_VERSION));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(bundle), 'utf8'), cipher.final()]);
  return {
    version: BUNDLE_VERSION, salt: salt.toString('base64'), iv: iv.toString('base64'),
    ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64'),
  };
}

const unopenable = (why: string): TriremeError =>
  new TriremeError('Forbidden', `the join bundle cannot be opened: ${why}`);

export function openBundle(secret: string, sealed: unknown): JoinBundle {
  const s = (sealed ?? {}) as Partial<Record<keyof SealedBundle, unknown>>;
  if (s.version !== BUNDLE_VERSION) throw unopenable(`unknown format ${JSON.stringify(s.version)} (expected ${BUNDLE_VERSION})`);
  const field = (name: 'salt' | 'iv' | 'ciphertext' | 'tag', len?: number): Buffer => {
    const v = s[name];
    const b = typeof v === 'string' ? Buffer.from(v, 'base64') : undefined;
    if (b === undefined || (len !== undefined && b.length !== len)) throw unopenable(`its ${name} is malformed`);
    return b;
  };
  const salt = field('salt', 16);
  const iv = field('iv', 12);
  const tag = field('tag', 16);
  const ciphertext = field('ciphertext');
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, salt), iv);
    decipher.setAAD(Buffer.from(BUNDLE_VERSION));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (e) {
    if (e instanceof TriremeError) throw e;
    throw new TriremeError('Forbidden', 'the join bundle cannot be opened: wrong join token, or the bundle was altered', { cause: e });
  }
  const doc = JSON.parse(plain) as Partial<JoinBundle>;
  const files = doc.files ?? {};
  const urls = doc.etcdClientUrls ?? [];
  if (typeof files !== 'object' || Object.values(files).some((v) => typeof v !== 'string')) throw unopenable('its files are not texts');
  if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string')) throw unopenable('its etcd client URLs are not strings');
  for (const p of Object.keys(files)) if (!isSafeRelativePath(p)) throw unopenable(`file path ${JSON.stringify(p)} is not a plain relative path`);
  return { files, etcdClientUrls: urls };
}
