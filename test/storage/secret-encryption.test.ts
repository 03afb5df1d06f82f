// The Secrets transformer (pure): envelope format, key ids, the store key as additional data,
// plaintext pass-through, keyring parsing and merging, the sealed keyring.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decryptValue, encrypts, encryptValue, ENVELOPE_PREFIX, isUnknownKeyError, keyIdOf, mergeKeyrings, newKey, newKeyring,
  openKeyring, parseKeyring, formatKeyring, sameKeyring, sealKeyring, withWriteKey,
} from '../../src/storage/secret-encryption.js';
import { isTriremeError } from '../../src/errors.js';

const KEY = '/registry/secrets/shop/db';
const PLAIN = JSON.stringify({ kind: 'Secret', data: { password: Buffer.from('hunter2').toString('base64') } });

describe('secret encryption', () => {
  it('only Secrets are encrypted', () => {
    assert.equal(encrypts(KEY), true);
    assert.equal(encrypts('/registry/configmaps/shop/db'), false);
    assert.equal(encrypts('/registry/secretsx/a'), false);
  });

  it('round-trips under the write key, with the Kubernetes-style prefix naming the key id', () => {
    const k = newKey(Date.UTC(2026, 11, 3, 6, 0, 0));
    assert.match(k.id, /^20261203T060000Z-[0-9a-f]{8}$/);
    const ring = newKeyring(k);
    const stored = encryptValue(ring, KEY, PLAIN);
    assert.ok(stored.startsWith(`${ENVELOPE_PREFIX}${k.id}:`));
    assert.equal(keyIdOf(stored), k.id);
    assert.ok(!stored.includes('hunter2') && !stored.includes(Buffer.from('hunter2').toString('base64')));
    assert.equal(decryptValue(ring, KEY, stored), PLAIN);
    assert.notEqual(encryptValue(ring, KEY, PLAIN), stored, 'a fresh IV per write');
  });

  it('plaintext from before encryption passes through', () => {
    const ring = newKeyring(newKey(0));
    assert.equal(keyIdOf(PLAIN), undefined);
    assert.equal(decryptValue(ring, KEY, PLAIN), PLAIN);
  });

  it('an old key still decrypts after rotation; new writes use the new key', () => {
    const old = newKeyring(newKey(1000));
    const before = encryptValue(old, KEY, PLAIN);
    const next = withWriteKey(old, newKey(2000));
    assert.equal(next.keys.length, 2);
    assert.equal(decryptValue(next, KEY, before), PLAIN);
    assert.equal(keyIdOf(encryptValue(next, KEY, PLAIN)), next.writeKey);
    assert.notEqual(next.writeKey, old.writeKey);
  });

  it('refuses an unknown key id, another store key, and a changed byte', () => {
    const a = newKeyring(newKey(0));
    const b = newKeyring(newKey(0));
    const stored = encryptValue(a, KEY, PLAIN);
    assert.throws(() => decryptValue(b, KEY, stored), (e: unknown) => isUnknownKeyError(e));
    assert.throws(() => decryptValue(a, '/registry/secrets/shop/other', stored), (e: unknown) => isTriremeError(e, 'Internal') && !isUnknownKeyError(e));
    const body = Buffer.from(stored.slice(stored.lastIndexOf(':') + 1), 'base64');
    body[14] = body[14]! ^ 1;
    const changed = stored.slice(0, stored.lastIndexOf(':') + 1) + body.toString('base64');
    assert.throws(() => decryptValue(a, KEY, changed), (e: unknown) => isTriremeError(e, 'Internal') && !(e as Error).message.includes('hunter2'));
  });

  it('parses only well-formed keyrings', () => {
    const ring = withWriteKey(newKeyring(newKey(0)), newKey(1));
    assert.deepEqual(parseKeyring(formatKeyring(ring), 'f'), ring);
    assert.throws(() => parseKeyring('{', 'f'), /not JSON/);
    assert.throws(() => parseKeyring(JSON.stringify({ ...ring, keys: [] }), 'f'), /no keys/);
    assert.throws(() => parseKeyring(JSON.stringify({ ...ring, writeKey: 'nope' }), 'f'), /write key/);
    assert.throws(() => parseKeyring(JSON.stringify({ ...ring, keys: [{ ...ring.keys[0], secret: 'c2hvcnQ=' }] }), 'f'), /32 bytes/);
    assert.throws(() => parseKeyring(JSON.stringify({ ...ring, keys: [{ ...ring.keys[0], id: 'a:b' }] }), 'f'), /malformed/);
  });

  it('merges keyrings by id, the preferred one choosing the write key', () => {
    const k1 = newKey(1000);
    const k2 = newKey(2000);
    const k3 = newKey(3000);
    const cluster = withWriteKey(newKeyring(k1), k2);
    const mine = withWriteKey(newKeyring(k1), k3);
    const m = mergeKeyrings(cluster, mine);
    assert.equal(m.writeKey, k2.id);
    assert.deepEqual(m.keys.map((k) => k.id), [k1.id, k2.id, k3.id]);
    assert.ok(sameKeyring(mergeKeyrings(m, cluster), m));
    assert.throws(() => mergeKeyrings(newKeyring({ ...k1, secret: k2.secret }), newKeyring(k1)), /two different encryption keys/);
  });

  it('seals the keyring with the CA key: another key cannot open it', () => {
    const ring = newKeyring(newKey(0));
    const sealed = sealKeyring('ca-key-pem', ring);
    assert.ok(!sealed.includes(ring.keys[0]!.secret));
    assert.deepEqual(openKeyring('ca-key-pem', sealed), ring);
    assert.throws(() => openKeyring('another-ca', sealed), /does not open/);
    assert.throws(() => openKeyring('ca-key-pem', 'garbage'), /not in a known format/);
  });
});
