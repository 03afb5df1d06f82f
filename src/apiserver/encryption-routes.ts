// POST /trireme/v1/encryption/rotate-key (admin only: no RBAC rule but system:masters' admits
// it; authorization happened before, in the handler): a new write key for Secrets at rest
// (encryption-keys.ts), then every stored Secret not yet under it read and written again.
// Guarantees: when the answer is 200, every Secret that existed when the rewrite listed them is
// stored under the new key (or was deleted meanwhile); a Secret another writer changed during
// the rewrite is read again and rewritten (compare-and-swap), so no write is lost; the answer
// names key ids and counts only, never key material or Secret contents.
// Does not: go through admission or the registry (the object does not change, only its stored
// bytes: its resourceVersion moves on, and watchers see a MODIFIED event of the same object);
// drop old keys (snapshots and history still need them).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTriremeError, TriremeError } from '../errors.js';
import { decryptValue, keyIdOf, SECRETS_PREFIX } from '../storage/secret-encryption.js';
import type { Store } from '../storage/store.js';
import type { EncryptionKeys } from './encryption-keys.js';
import { sendJson } from './http-util.js';

export const ROTATE_KEY_PATH = '/trireme/v1/encryption/rotate-key';

export interface RotationResult {
  apiVersion: 'trireme/v1';
  kind: 'EncryptionKeyRotation';
  writeKey: string;
  /** Every key id the keyring holds, oldest first. */
  keys: string[];
  /** Secrets rewritten under the new key. */
  rewritten: number;
  /** Secrets gone before their turn came. */
  deleted: number;
}

/**
 * Rewrites every Secret of `raw` (the backend's store) whose stored bytes are not under the
 * write key, through `encrypting` (the store that encrypts with it).
 */
export async function reencryptSecrets(raw: Store, encrypting: Store, keys: EncryptionKeys): Promise<{ rewritten: number; deleted: number }> {
  let rewritten = 0;
  let deleted = 0;
  const listed = await raw.list(SECRETS_PREFIX);
  for (const item of listed.items) {
    for (let attempt = 0; ; attempt++) {
      const kv = attempt === 0 ? item : await raw.get(item.key);
      if (!kv) { deleted++; break; }
      if (keyIdOf(kv.value) === keys.current().writeKey) break;
      try {
        await encrypting.update(kv.key, decryptValue(keys.current(), kv.key, kv.value), kv.modRevision);
        rewritten++;
        break;
      } catch (e) {
        if (isTriremeError(e, 'NotFound')) { deleted++; break; }
        if (!isTriremeError(e, 'Conflict') || attempt >= 20) throw e;
      }
    }
  }
  return { rewritten, deleted };
}

export function createEncryptionRoutes(o: { keys: EncryptionKeys; raw: Store; encrypting: Store }): { serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> } {
  return {
    async serve(req, res, path) {
      if (path !== ROTATE_KEY_PATH) return false;
      if (req.method !== 'POST') throw new TriremeError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const ring = await o.keys.rotate();
      const counts = await reencryptSecrets(o.raw, o.encrypting, o.keys);
      const body: RotationResult = { apiVersion: 'trireme/v1', kind: 'EncryptionKeyRotation', writeKey: ring.writeKey, keys: ring.keys.map((k) => k.id), ...counts };
      sendJson(res, 200, body);
      return true;
    },
  };
}
