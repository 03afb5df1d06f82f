// Encryption at rest of Secrets (pure, node:crypto only): the keyring, the value transformer
// that the encrypting store (encrypted.ts) applies at the store boundary, and the sealing of the
// keyring itself for the copy every server of a cluster reads from the store.
// Guarantees:
// - only keys under SECRETS_PREFIX are transformed (`encrypts(key)`); every other value passes
//   through unchanged;
// - a stored Secret is `k8s:enc:aesgcm:v1:<keyid>:` + base64(iv ‖ ciphertext ‖ tag), AES-256-GCM
//   with a random 96-bit IV per write and the store key as additional data, so a ciphertext
//   copied under another key does not decrypt; the key id in the prefix names the key that
//   decrypts it, so values written under an older key stay readable while it is in the keyring;
// - a stored value without the prefix is plaintext written before encryption was on, returned
//   as it is (the next write of it encrypts it);
// - a wrong key, a changed byte or an unknown key id is a TriremeError (Internal; the code
//   `unknownKey` in its context for the last), never garbage;
// - a keyring has at least one key and its write key is one of them (`parseKeyring` refuses
//   anything else).
// Does not: read or write files or the store (encryption-keys.ts in src/apiserver does), or
// ever put a plaintext value into an error message.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { TriremeError } from '../errors.js';

/** Store keys of Secrets (storePrefix of core/v1 secrets). */
export const SECRETS_PREFIX = '/registry/secrets/';
/** The envelope's prefix, as Kubernetes' aesgcm provider writes it (then `<keyid>:`). */
export const ENVELOPE_PREFIX = 'k8s:enc:aesgcm:v1:';
const SEALED_KEYRING_PREFIX = 'trireme:keyring:aesgcm:v1:';
const KEYRING_KEK_INFO = Buffer.from('trireme secrets keyring key');
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface EncryptionKey {
  id: string;
  /** 32 bytes, base64. */
  secret: string;
  /** When the key was made (ISO 8601). */
  created: string;
}

export interface Keyring {
  apiVersion: 'trireme/v1';
  kind: 'EncryptionKeys';
  /** The id of the key new writes use. */
  writeKey: string;
  /** Every key that can still decrypt, oldest first. */
  keys: EncryptionKey[];
}

export function encrypts(storeKey: string): boolean {
  return storeKey.startsWith(SECRETS_PREFIX);
}

/** A fresh key, its id made from the time (sortable) and 4 random bytes (unique across servers). */
export function newKey(now: number, random: (n: number) => Buffer = randomBytes): EncryptionKey {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return { id: `${stamp}-${random(4).toString('hex')}`, secret: random(32).toString('base64'), created: new Date(now).toISOString() };
}

export function newKeyring(key: EncryptionKey): Keyring {
  return { apiVersion: 'trireme/v1', kind: 'EncryptionKeys', writeKey: key.id, keys: [key] };
}

/** `ring` with `key` added as the write key (the old keys kept for reading). */
export function withWriteKey(ring: Keyring, key: EncryptionKey): Keyring {
  return { ...ring, writeKey: key.id, keys: [...ring.keys.filter((k) => k.id !== key.id), key] };
}

/**
 * The union of two keyrings (keys by id; an id present in both must hold the same secret), with
 * `preferred`'s write key: the cluster's copy (the store's) decides which key writes.
 */
export function mergeKeyrings(preferred: Keyring, other: Keyring): Keyring {
  const keys = [...other.keys];
  for (const k of preferred.keys) {
    const i = keys.findIndex((o) => o.id === k.id);
    if (i < 0) keys.push(k);
    else if (keys[i]!.secret !== k.secret) throw new TriremeError('Internal', `two different encryption keys carry the id ${k.id}`);
  }
  keys.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
  return { ...preferred, keys };
}

export function sameKeyring(a: Keyring, b: Keyring): boolean {
  return a.writeKey === b.writeKey && a.keys.length === b.keys.length && a.keys.every((k, i) => k.id === b.keys[i]!.id && k.secret === b.keys[i]!.secret);
}

export function parseKeyring(text: string, where: string): Keyring {
  let doc: Partial<Keyring>;
  try {
    doc = JSON.parse(text) as Partial<Keyring>;
  } catch (e) {
    throw new TriremeError('Internal', `${where} is not JSON`, { cause: e });
  }
  const keys = Array.isArray(doc.keys) ? doc.keys : [];
  if (keys.length === 0) throw new TriremeError('Internal', `${where} holds no keys`);
  for (const k of keys) {
    if (typeof k?.id !== 'string' || !KEY_ID.test(k.id)) throw new TriremeError('Internal', `${where}: a key id is missing or malformed`);
    if (typeof k.secret !== 'string' || Buffer.from(k.secret, 'base64').length !== 32) throw new TriremeError('Internal', `${where}: key ${k.id} is not 32 bytes of base64`);
    if (typeof k.created !== 'string') throw new TriremeError('Internal', `${where}: key ${k.id} has no creation time`);
  }
  if (typeof doc.writeKey !== 'string' || !keys.some((k) => k.id === doc.writeKey)) throw new TriremeError('Internal', `${where}: the write key ${JSON.stringify(doc.writeKey)} is not one of its keys`);
  return { apiVersion: 'trireme/v1', kind: 'EncryptionKeys', writeKey: doc.writeKey, keys: keys.map((k) => ({ id: k.id, secret: k.secret, created: k.created })) };
}

export function formatKeyring(ring: Keyring): string {
  return `${JSON.stringify(ring, null, 2)}\n`;
}

/** The key id a stored value names, or undefined for a plaintext value. */
export function keyIdOf(value: string): string | undefined {
  if (!value.startsWith(ENVELOPE_PREFIX)) return undefined;
  const end = value.indexOf(':', ENVELOPE_PREFIX.length);
  return end < 0 ? undefined : value.slice(ENVELOPE_PREFIX.length, end);
}

function keyBytes(ring: Keyring, id: string, storeKey: string): Buffer {
  const k = ring.keys.find((x) => x.id === id);
  if (!k) throw new TriremeError('Internal', `${storeKey} is encrypted with key ${id}, which this server does not hold`, { context: { unknownKey: id } });
  return Buffer.from(k.secret, 'base64');
}

export function isUnknownKeyError(err: unknown): boolean {
  return err instanceof TriremeError && typeof err.context.unknownKey === 'string';
}

export function encryptValue(ring: Keyring, storeKey: string, plaintext: string, random: (n: number) => Buffer = randomBytes): string {
  const iv = random(12);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(ring, ring.writeKey, storeKey), iv);
  cipher.setAAD(Buffer.from(storeKey, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${ENVELOPE_PREFIX}${ring.writeKey}:${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64')}`;
}

export function decryptValue(ring: Keyring, storeKey: string, stored: string): string {
  const id = keyIdOf(stored);
  if (id === undefined) return stored;
  const raw = Buffer.from(stored.slice(ENVELOPE_PREFIX.length + id.length + 1), 'base64');
  if (raw.length < 12 + 16) throw new TriremeError('Internal', `the stored value of ${storeKey} is a truncated ciphertext`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyBytes(ring, id, storeKey), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(storeKey, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch (e) {
    if (e instanceof TriremeError) throw e;
    throw new TriremeError('Internal', `the stored value of ${storeKey} does not decrypt with key ${id} (altered, or another key under the same id)`, { cause: e });
  }
}

function keyringKek(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, KEYRING_KEK_INFO, 32));
}

/** The keyring sealed for the store, with a key derived from `secret` (every server holds it: the CA key). */
export function sealKeyring(secret: string, ring: Keyring, random: (n: number) => Buffer = randomBytes): string {
  const salt = random(16);
  const iv = random(12);
  const cipher = createCipheriv('aes-256-gcm', keyringKek(secret, salt), iv);
  cipher.setAAD(Buffer.from(SEALED_KEYRING_PREFIX));
  const ct = Buffer.concat([cipher.update(JSON.stringify(ring), 'utf8'), cipher.final()]);
  return SEALED_KEYRING_PREFIX + Buffer.concat([salt, iv, ct, cipher.getAuthTag()]).toString('base64');
}

export function openKeyring(secret: string, sealed: string): Keyring {
  if (!sealed.startsWith(SEALED_KEYRING_PREFIX)) throw new TriremeError('Internal', 'the stored keyring is not in a known format');
  const raw = Buffer.from(sealed.slice(SEALED_KEYRING_PREFIX.length), 'base64');
  if (raw.length < 16 + 12 + 16) throw new TriremeError('Internal', 'the stored keyring is truncated');
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyringKek(secret, raw.subarray(0, 16)), raw.subarray(16, 28));
    decipher.setAAD(Buffer.from(SEALED_KEYRING_PREFIX));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    plain = Buffer.concat([decipher.update(raw.subarray(28, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch (e) {
    throw new TriremeError('Internal', 'the stored keyring does not open with this server\'s CA key (another cluster\'s store?)', { cause: e });
  }
  return parseKeyring(plain, 'the stored keyring');
}
