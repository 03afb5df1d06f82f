import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTriremeError } from '../../src/errors.js';
import { caFingerprint, ensurePki } from '../../src/apiserver/pki.js';
import { ensureJoinToken, joinTokenPath, parseJoinToken, readJoinToken, verifyCaHash } from '../../src/apiserver/tokens.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-token-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the join token is generated once, 0600, in the K10 format pinning the CA', async (t) => {
  const dir = await tempDir(t);
  const pki = await ensurePki(dir, { sans: [] });
  assert.equal(await readJoinToken(dir), undefined);
  const token = await ensureJoinToken(dir, pki.caCertPem);
  assert.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
  assert.equal((await stat(joinTokenPath(dir))).mode & 0o777, 0o600);
  assert.equal(await readJoinToken(dir), token);
  assert.equal(await ensureJoinToken(dir, pki.caCertPem), token);

  const parsed = parseJoinToken(token);
  assert.equal(parsed.caHash, caFingerprint(pki.caCertPem));
  assert.equal(parsed.role, 'server');
  assert.equal(parsed.secret.length, 32);
  assert.ok(verifyCaHash(pki.caCertPem, parsed.caHash!));
});

test('a stored token pinning another CA is refused', async (t) => {
  const dir = await tempDir(t);
  const other = await tempDir(t);
  const pki = await ensurePki(dir, { sans: [] });
  const foreign = await ensurePki(other, { sans: [] });
  await writeFile(joinTokenPath(dir), `K10${caFingerprint(foreign.caCertPem)}::server:abc\n`);
  await assert.rejects(ensureJoinToken(dir, pki.caCertPem), (e) => isTriremeError(e, 'Invalid'));
});

test('parseJoinToken accepts full, role-less and bare tokens and rejects malformed ones', () => {
  const hash = 'AB'.repeat(32);
  assert.deepEqual(parseJoinToken(`K10${hash}::server:s3cret`), { caHash: hash.toLowerCase(), role: 'server', secret: 's3cret' });
  assert.deepEqual(parseJoinToken(`K10${hash}::s3cret`), { caHash: hash.toLowerCase(), secret: 's3cret' });
  assert.deepEqual(parseJoinToken('  just-a-secret\n'), { secret: 'just-a-secret' });
  assert.deepEqual(parseJoinToken('K10short'), { secret: 'K10short' });
  assert.throws(() => parseJoinToken('K10abc::server:x'), (e) => isTriremeError(e, 'Invalid'));
  assert.throws(() => parseJoinToken(`K10${hash}::server:`), (e) => isTriremeError(e, 'Invalid'));
  assert.throws(() => parseJoinToken(''), (e) => isTriremeError(e, 'Invalid'));
});

test('verifyCaHash matches only the right CA, in any case, and rejects junk', async (t) => {
  const dir = await tempDir(t);
  const other = await tempDir(t);
  const pki = await ensurePki(dir, { sans: [] });
  const foreign = await ensurePki(other, { sans: [] });
  const hash = caFingerprint(pki.caCertPem);
  assert.ok(verifyCaHash(pki.caCertPem, hash));
  assert.ok(verifyCaHash(pki.caCertPem, hash.toUpperCase()));
  assert.ok(!verifyCaHash(foreign.caCertPem, hash));
  assert.ok(!verifyCaHash(pki.caCertPem, hash.slice(2)));
  assert.ok(!verifyCaHash(pki.caCertPem, 'zz'.repeat(32)));
});
