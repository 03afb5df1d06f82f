// The Secrets keyring's two copies over a real SQLite store in a temp dir: the key file made at
// first start (0600) and the CA-key-sealed copy in the store; a second server without a file
// adopts the store's keys; a rotation on one reaches the other through its watch; a file with a
// key the store lacks is merged in; re-encryption rewrites every Secret under the new key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptionKeys, KEYRING_STORE_KEY, KEYS_FILE } from '../../src/apiserver/encryption-keys.js';
import { reencryptSecrets } from '../../src/apiserver/encryption-routes.js';
import { encryptSecrets } from '../../src/storage/encrypted.js';
import { formatKeyring, keyIdOf, newKey, newKeyring, openKeyring, parseKeyring } from '../../src/storage/secret-encryption.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { writePrivateFile } from '../../src/util/private-file.js';
import { pollUntil } from '../../src/util/poll.js';

const CA_KEY = '-----BEGIN PRIVATE KEY-----\ntest\n-----END PRIVATE KEY-----\n';

async function withDirs(fn: (root: string, store: SqliteStore) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'trireme-keys-'));
  const store = SqliteStore.open(join(root, 'db'));
  try {
    await fn(root, store);
  } finally {
    await store.close();
    await rm(root, { recursive: true, force: true });
  }
}

const open = (dataDir: string, store: SqliteStore) => EncryptionKeys.open({ dataDir, store, caKeyPem: CA_KEY, clock: systemClock, logger: silentLogger });

describe('EncryptionKeys', () => {
  it('first start writes the file (0600) and the sealed store copy; a server without a file adopts it', () => withDirs(async (root, store) => {
    const a = await open(join(root, 'a'), store);
    const file = join(root, 'a', KEYS_FILE);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(parseKeyring(await readFile(file, 'utf8'), 'f'), a.current());
    const sealed = (await store.get(KEYRING_STORE_KEY))!.value;
    assert.ok(!sealed.includes(a.current().keys[0]!.secret));
    assert.deepEqual(openKeyring(CA_KEY, sealed), a.current());
    const b = await open(join(root, 'b'), store);
    assert.deepEqual(b.current(), a.current());
    assert.equal(await readFile(join(root, 'b', KEYS_FILE), 'utf8'), a.fileContent());
  }));

  it('a rotation on one server reaches the other through the store', () => withDirs(async (root, store) => {
    const a = await open(join(root, 'a'), store);
    const b = await open(join(root, 'b'), store);
    b.start();
    try {
      const next = await a.rotate();
      assert.equal(next.keys.length, 2);
      assert.equal(parseKeyring(await readFile(join(root, 'a', KEYS_FILE), 'utf8'), 'f').writeKey, next.writeKey);
      await pollUntil('b to learn the new key', async () => (b.current().writeKey === next.writeKey) || undefined, { timeoutMs: 5000, everyMs: 20 });
      await pollUntil('b to keep it in its file', async () => (parseKeyring(await readFile(join(root, 'b', KEYS_FILE), 'utf8'), 'f').writeKey === next.writeKey) || undefined, { timeoutMs: 5000, everyMs: 20 });
    } finally {
      b.stop();
    }
  }));

  it('a key only the file holds (a restored data dir) is merged into the store copy', () => withDirs(async (root, store) => {
    const a = await open(join(root, 'a'), store);
    const extra = newKeyring(newKey(0));
    await mkdir(join(root, 'c', 'encryption'), { recursive: true });
    await writePrivateFile(join(root, 'c', KEYS_FILE), formatKeyring(extra));
    const c = await open(join(root, 'c'), store);
    assert.equal(c.current().writeKey, a.current().writeKey, 'the store\'s write key wins');
    assert.deepEqual(c.current().keys.map((k) => k.id).sort(), [a.current().writeKey, extra.writeKey].sort());
    assert.deepEqual(openKeyring(CA_KEY, (await store.get(KEYRING_STORE_KEY))!.value).keys.length, 2);
  }));

  it('re-encryption rewrites every Secret under the new key, plaintext ones included', () => withDirs(async (root, store) => {
    const keys = await open(join(root, 'a'), store);
    const encrypting = encryptSecrets(store, keys);
    for (let i = 0; i < 5; i++) await encrypting.create(`/registry/secrets/ns/s${i}`, `{"v":${i}}`);
    await store.create('/registry/secrets/ns/old', '{"v":"plain"}');
    const next = await keys.rotate();
    const r = await reencryptSecrets(store, encrypting, keys);
    assert.deepEqual(r, { rewritten: 6, deleted: 0 });
    for (const kv of (await store.list('/registry/secrets/')).items) assert.equal(keyIdOf(kv.value), next.writeKey, kv.key);
    assert.equal((await encrypting.get('/registry/secrets/ns/old'))!.value, '{"v":"plain"}');
    assert.deepEqual(await reencryptSecrets(store, encrypting, keys), { rewritten: 0, deleted: 0 });
  }));
});
