// The encrypting store over a real SQLite store: Secrets are ciphertext in the backend and
// plaintext through every read path (get, list, delete's prev, watch events), other keys are
// untouched, and a value under a key the keyring does not hold yet refreshes the keyring once,
// with watch events kept in order behind the refresh.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptSecrets, type KeySource } from '../../src/storage/encrypted.js';
import { encryptValue, keyIdOf, newKey, newKeyring, withWriteKey, type Keyring } from '../../src/storage/secret-encryption.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { StoreEvent } from '../../src/storage/store.js';

async function withStore(fn: (inner: SqliteStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-enc-'));
  const inner = SqliteStore.open(join(dir, 'db'));
  try {
    await fn(inner);
  } finally {
    await inner.close();
    await rm(dir, { recursive: true, force: true });
  }
}

class Keys implements KeySource {
  refreshes = 0;
  constructor(public ring: Keyring, private later?: Keyring) {}
  current(): Keyring { return this.ring; }
  async refresh(): Promise<void> {
    this.refreshes++;
    await new Promise((r) => setTimeout(r, 20));
    if (this.later) this.ring = this.later;
  }
}

describe('encryptSecrets', () => {
  it('stores ciphertext, reads plaintext, leaves other keys alone', async () => {
    await withStore(async (inner) => {
      const keys = new Keys(newKeyring(newKey(0)));
      const store = encryptSecrets(inner, keys);
      const events: StoreEvent[] = [];
      const w = store.watch('/registry/', 0, { onEvent: (ev) => events.push(ev), onError: (e) => assert.fail(e) });
      const kv = await store.create('/registry/secrets/ns/a', '{"data":"s3cret"}');
      assert.equal(kv.value, '{"data":"s3cret"}');
      await store.create('/registry/configmaps/ns/a', '{"data":"plain"}');
      const raw = await inner.get('/registry/secrets/ns/a');
      assert.equal(keyIdOf(raw!.value), keys.ring.writeKey);
      assert.ok(!raw!.value.includes('s3cret'));
      assert.equal((await inner.get('/registry/configmaps/ns/a'))!.value, '{"data":"plain"}');
      assert.equal((await store.get('/registry/secrets/ns/a'))!.value, '{"data":"s3cret"}');
      assert.deepEqual((await store.list('/registry/')).items.map((i) => i.value), ['{"data":"plain"}', '{"data":"s3cret"}']);
      await store.update('/registry/secrets/ns/a', '{"data":"s3cret2"}', kv.modRevision);
      const del = await store.delete('/registry/secrets/ns/a');
      assert.equal(del.prev.value, '{"data":"s3cret2"}');
      for (let i = 0; i < 50 && events.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      w.cancel();
      assert.deepEqual(events.map((e) => (e.type === 'put' ? e.kv.value : `del ${e.prev.value}`)), ['{"data":"s3cret"}', '{"data":"plain"}', '{"data":"s3cret2"}', 'del {"data":"s3cret2"}']);
      const put = events[2]!;
      assert.ok(put.type === 'put' && put.prev?.value === '{"data":"s3cret"}', 'prev values are decrypted too');
    });
  });

  it('an unknown key id refreshes the keyring once; watch events stay in order', async () => {
    await withStore(async (inner) => {
      const old = newKeyring(newKey(0));
      const rotated = withWriteKey(old, newKey(1));
      const keys = new Keys(old, rotated);
      const store = encryptSecrets(inner, keys);
      const seen: string[] = [];
      const w = store.watch('/registry/secrets/', 0, { onEvent: (ev) => { if (ev.type === 'put') seen.push(ev.kv.value); }, onError: (e) => assert.fail(e) });
      // Another server wrote with the new key; then this server writes with its old one.
      await inner.create('/registry/secrets/ns/b', encryptValue(rotated, '/registry/secrets/ns/b', 'B'));
      await store.create('/registry/secrets/ns/c', 'C');
      for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, ['B', 'C']);
      assert.equal((await store.get('/registry/secrets/ns/b'))!.value, 'B');
      assert.equal(keys.refreshes, 1);
      w.cancel();
    });
  });

  it('a value no key decrypts fails the read and ends the watch', async () => {
    await withStore(async (inner) => {
      const keys = new Keys(newKeyring(newKey(0)));
      const store = encryptSecrets(inner, keys);
      let ended: Error | undefined;
      const w = store.watch('/registry/secrets/', 0, { onEvent: () => assert.fail('no plaintext of another cluster'), onError: (e) => { ended = e; } });
      await inner.create('/registry/secrets/ns/x', encryptValue(newKeyring(newKey(0)), '/registry/secrets/ns/x', 'X'));
      await assert.rejects(store.get('/registry/secrets/ns/x'), /does not hold/);
      for (let i = 0; i < 50 && !ended; i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(String(ended?.message), /does not hold/);
      w.cancel();
    });
  });
});
