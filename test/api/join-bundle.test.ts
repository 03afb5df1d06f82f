// The join bundle (src/api/join-bundle.ts): what is sealed with a token secret opens with it and
// only with it; any altered byte, a wrong secret, an unknown format or an unsafe file path is a
// Forbidden error saying so.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSafeRelativePath, openBundle, sealBundle, type JoinBundle } from '../../src/api/join-bundle.js';
import { isTriremeError } from '../../src/errors.js';

const bundle: JoinBundle = {
  files: { 'tls/ca.crt': '-----BEGIN CERTIFICATE-----\nx\n', 'tls/ca.key': 'key', token: 'K10abc::server:s\n' },
  etcdClientUrls: ['https://127.0.2.1:2379'],
};

describe('join bundle', () => {
  it('opens with the secret it was sealed with', () => {
    const sealed = sealBundle('s3cret', bundle);
    assert.deepEqual(openBundle('s3cret', JSON.parse(JSON.stringify(sealed))), bundle);
    assert.equal(sealed.ciphertext.includes('key'), false);
  });

  it('two seals of one bundle differ (fresh salt and IV)', () => {
    const a = sealBundle('s', bundle);
    const b = sealBundle('s', bundle);
    assert.notEqual(a.ciphertext, b.ciphertext);
    assert.notEqual(a.salt, b.salt);
  });

  it('a wrong secret is a Forbidden error naming the cause', () => {
    const sealed = sealBundle('right', bundle);
    assert.throws(() => openBundle('wrong', sealed), (e) => isTriremeError(e, 'Forbidden') && /wrong join token, or the bundle was altered/.test(e.message));
  });

  for (const field of ['ciphertext', 'tag', 'iv', 'salt'] as const) {
    it(`an altered ${field} is refused`, () => {
      const sealed = sealBundle('k', bundle);
      const raw = Buffer.from(sealed[field], 'base64');
      raw[0] = raw[0]! ^ 0x01;
      assert.throws(() => openBundle('k', { ...sealed, [field]: raw.toString('base64') }), (e) => isTriremeError(e, 'Forbidden'));
    });
  }

  it('an unknown format or malformed fields are refused', () => {
    const sealed = sealBundle('k', bundle);
    assert.throws(() => openBundle('k', { ...sealed, version: 'v0' }), (e) => isTriremeError(e, 'Forbidden') && /unknown format/.test(e.message));
    assert.throws(() => openBundle('k', { ...sealed, iv: 'AAAA' }), (e) => isTriremeError(e, 'Forbidden') && /iv is malformed/.test(e.message));
    assert.throws(() => openBundle('k', undefined), (e) => isTriremeError(e, 'Forbidden'));
  });

  it('file paths must be plain relative paths, sealed or opened', () => {
    for (const p of ['tls/ca.key', 'token', 'a/b.c/d_e-f']) assert.equal(isSafeRelativePath(p), true, p);
    for (const p of ['', '/etc/passwd', '../x', 'tls/../../x', 'a//b', './a', 'a/.', '.hidden/..']) assert.equal(isSafeRelativePath(p), false, p);
    assert.throws(() => sealBundle('k', { files: { '../escape': 'x' }, etcdClientUrls: [] }), (e) => isTriremeError(e, 'Invalid'));
  });

  it('an empty secret cannot seal', () => {
    assert.throws(() => sealBundle('', bundle), (e) => isTriremeError(e, 'Invalid'));
  });
});
