import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTriremeError } from '../../src/errors.js';
import { FakeClock } from '../../src/util/clock.js';
import { caFingerprint, certSans, DEFAULT_SANS, ensurePki, pkiPaths, wantedSans } from '../../src/apiserver/pki.js';

const DAY = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function sanValues(pem: string): string[] {
  return certSans(pem).map((s) => s.value);
}

test('first start creates a CA and a serving certificate with the default and requested SANs', async (t) => {
  const dir = await tempDir(t);
  const pki = await ensurePki(dir, { sans: ['10.1.2.3', 'API.Example.com', '::1'] });
  const paths = pkiPaths(dir);

  assert.equal(await readFile(paths.caCert, 'utf8'), pki.caCertPem);
  assert.equal(await readFile(paths.caKey, 'utf8'), pki.caKeyPem);
  assert.equal(await readFile(paths.serverCert, 'utf8'), pki.serverCertPem);
  assert.equal(await readFile(paths.serverKey, 'utf8'), pki.serverKeyPem);
  assert.equal((await stat(paths.caKey)).mode & 0o777, 0o600);
  assert.equal((await stat(paths.serverKey)).mode & 0o777, 0o600);
  assert.equal((await stat(paths.dir)).mode & 0o777, 0o700);

  const ca = new X509Certificate(pki.caCertPem);
  assert.equal(ca.subject, 'CN=trireme-ca');
  assert.equal(ca.ca, true);
  const caYears = (Date.parse(ca.validTo) - Date.now()) / (365 * DAY);
  assert.ok(caYears > 9.9 && caYears < 10.1, `CA valid for ${caYears} years`);
  assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  const server = new X509Certificate(pki.serverCertPem);
  assert.equal(server.ca, false);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
  assert.deepEqual(server.keyUsage, [SERVER_AUTH]);
  const serverDays = (Date.parse(server.validTo) - Date.now()) / DAY;
  assert.ok(serverDays > 364 && serverDays < 366, `server cert valid for ${serverDays} days`);
  const sans = sanValues(pki.serverCertPem);
  for (const want of ['10.1.2.3', 'api.example.com', '::1', ...DEFAULT_SANS]) assert.ok(sans.includes(want), `SAN ${want} in ${sans.join(',')}`);
  assert.equal(server.checkHost('kubernetes.default.svc.cluster.local'), 'kubernetes.default.svc.cluster.local');
  assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(pki.serverCertIssued, true);
});

test('later starts reuse the CA and the serving certificate while it still fits', async (t) => {
  const dir = await tempDir(t);
  const first = await ensurePki(dir, { sans: ['node1.example', '::1'] });
  const second = await ensurePki(dir, { sans: ['node1.example', '::1'] });
  assert.equal(second.caCertPem, first.caCertPem);
  assert.equal(second.caKeyPem, first.caKeyPem);
  assert.equal(second.serverCertPem, first.serverCertPem);
  assert.equal(second.serverKeyPem, first.serverKeyPem);
  assert.equal(second.serverCertIssued, false);
  // A subset of the SANs, with another spelling of the same IP and name, is still covered.
  const third = await ensurePki(dir, { sans: ['0:0:0:0:0:0:0:1', 'NODE1.example.'] });
  assert.equal(third.serverCertIssued, false);
});

test('adding a SAN reissues the serving certificate under the same CA, keeping old names', async (t) => {
  const dir = await tempDir(t);
  const first = await ensurePki(dir, { sans: ['10.0.0.1'] });
  const second = await ensurePki(dir, { sans: ['10.0.0.2', 'lb.example'] });
  assert.equal(second.caCertPem, first.caCertPem);
  assert.notEqual(second.serverCertPem, first.serverCertPem);
  assert.notEqual(second.serverKeyPem, first.serverKeyPem);
  assert.equal(second.serverCertIssued, true);
  const sans = sanValues(second.serverCertPem);
  for (const want of ['10.0.0.1', '10.0.0.2', 'lb.example', 'localhost']) assert.ok(sans.includes(want), want);
  assert.equal(await readFile(pkiPaths(dir).serverCert, 'utf8'), second.serverCertPem);
  const ca = new X509Certificate(second.caCertPem);
  assert.ok(new X509Certificate(second.serverCertPem).verify(ca.publicKey));
});

test('a serving certificate within 30 days of expiry is reissued', async (t) => {
  const dir = await tempDir(t);
  const start = Date.now();
  const first = await ensurePki(dir, { sans: [], clock: new FakeClock(start) });
  const early = await ensurePki(dir, { sans: [], clock: new FakeClock(start + 300 * DAY) });
  assert.equal(early.serverCertIssued, false);
  const late = await ensurePki(dir, { sans: [], clock: new FakeClock(start + 340 * DAY) });
  assert.equal(late.serverCertIssued, true);
  assert.equal(late.caCertPem, first.caCertPem);
  const notAfter = Date.parse(new X509Certificate(late.serverCertPem).validTo);
  assert.ok(notAfter > start + 700 * DAY, 'new certificate counts from the clock that issued it');
});

test('a serving certificate not signed by the CA, or not matching its key, is replaced', async (t) => {
  const dir = await tempDir(t);
  const other = await tempDir(t);
  const first = await ensurePki(dir, { sans: [] });
  const foreign = await ensurePki(other, { sans: [] });
  await writeFile(pkiPaths(dir).serverCert, foreign.serverCertPem);
  await writeFile(pkiPaths(dir).serverKey, foreign.serverKeyPem);
  const fixed = await ensurePki(dir, { sans: [] });
  assert.equal(fixed.serverCertIssued, true);
  assert.ok(new X509Certificate(fixed.serverCertPem).checkIssued(new X509Certificate(first.caCertPem)));

  await writeFile(pkiPaths(dir).serverKey, foreign.serverKeyPem);
  const again = await ensurePki(dir, { sans: [] });
  assert.equal(again.serverCertIssued, true);
});

test('a CA certificate without its key is an error, not a new CA', async (t) => {
  const dir = await tempDir(t);
  await ensurePki(dir, { sans: [] });
  await rm(pkiPaths(dir).caKey);
  await assert.rejects(ensurePki(dir, { sans: [] }), (e) => isTriremeError(e, 'Invalid'));
});

test('bad SANs are rejected; SANs are normalised and deduplicated', () => {
  assert.throws(() => wantedSans(['not a name']), (e) => isTriremeError(e, 'Invalid'));
  assert.throws(() => wantedSans(['-bad.example']), (e) => isTriremeError(e, 'Invalid'));
  const sans = wantedSans(['LOCALHOST.', '127.0.0.1', '::0001', '*.apps.example']);
  const values = sans.map((s) => s.value);
  assert.equal(values.filter((v) => v === 'localhost').length, 1);
  assert.equal(values.filter((v) => v === '127.0.0.1').length, 1);
  assert.ok(values.includes('::1'));
  assert.ok(values.includes('*.apps.example'));
});

test('issueClientCert signs a client certificate with CN and organizations', async (t) => {
  const dir = await tempDir(t);
  const pki = await ensurePki(dir, { sans: [] });
  const issued = await pki.issueClientCert({ commonName: 'system:node:n1', organizations: ['system:nodes', 'extra'] }, 30);
  const cert = new X509Certificate(issued.certPem);
  const ca = new X509Certificate(pki.caCertPem);
  assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
  assert.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
  assert.match(cert.subject, /CN=system:node:n1/);
  assert.match(cert.subject, /O=system:nodes/);
  assert.match(cert.subject, /O=extra/);
  const days = (Date.parse(cert.validTo) - Date.now()) / DAY;
  assert.ok(days > 29 && days < 31);
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(issued.keyPem)));
});

test('caFingerprint is the SHA-256 of the DER', async (t) => {
  const dir = await tempDir(t);
  const pki = await ensurePki(dir, { sans: [] });
  const expected = new X509Certificate(pki.caCertPem).fingerprint256.replace(/:/g, '').toLowerCase();
  assert.equal(caFingerprint(pki.caCertPem), expected);
  assert.match(expected, /^[0-9a-f]{64}$/);
});
