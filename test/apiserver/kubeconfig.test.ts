import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { FakeClock } from '../../src/util/clock.js';
import { deps, needs } from '../helpers/require-dep.js';
import { ensurePki, type Pki } from '../../src/apiserver/pki.js';
import { createAuthenticator, type UserInfo } from '../../src/apiserver/auth.js';
import { renderKubeconfig, writeAdminKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { parseKubeconfig } from '../../src/client/config.js';

const DAY = 24 * 60 * 60 * 1000;
const KUBECTL = '/usr/bin/kubectl';
const VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' };

let dir: string;
let pki: Pki;
let server: https.Server;
let serverUrl: string;
/** Identity of every request the test server saw, in order. */
const seen: { path: string; user: UserInfo | undefined }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trireme-kubeconfig-'));
  pki = await ensurePki(dir, { sans: [] });
  const authn = createAuthenticator({ caCertPem: pki.caCertPem, tokens: new Map() });
  // A tiny API server: /version for the admin only, so a success proves the client cert was sent.
  server = https.createServer(
    { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const user = authn.authenticate(req);
      seen.push({ path: req.url ?? '', user });
      res.setHeader('content-type', 'application/json');
      if (!user || !user.groups.includes('system:masters')) {
        res.statusCode = 401;
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401, message: 'Unauthorized' }));
        return;
      }
      if (req.url?.split('?')[0] === '/version') {
        res.end(JSON.stringify(VERSION));
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  serverUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

interface KubeconfigDoc {
  apiVersion: string;
  kind: string;
  clusters: { name: string; cluster: Record<string, string> }[];
  users: { name: string; user: Record<string, string> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

test('renderKubeconfig produces a kubeconfig the yaml package reads back', () => {
  const text = renderKubeconfig({ serverUrl: 'https://h:6443', caCertPem: 'CA', clientCertPem: 'CERT', clientKeyPem: 'KEY', userName: 'system:node:n1', contextName: 'n1', namespace: 'kube-system' });
  const doc = parse(text) as KubeconfigDoc & { contexts: { context: { namespace?: string } }[] };
  assert.equal(doc.kind, 'Config');
  assert.equal(doc['current-context'], 'n1');
  assert.deepEqual(doc.contexts[0], { name: 'n1', context: { cluster: 'trireme', user: 'system:node:n1', namespace: 'kube-system' } });
  assert.equal(Buffer.from(doc.users[0]!.user['client-key-data']!, 'base64').toString(), 'KEY');
  const back = parseKubeconfig(text, 'kubeconfig.yaml');
  assert.equal(back.server, 'https://h:6443');
  assert.equal(back.caPem, 'CA');
  assert.equal(back.certPem, 'CERT');
});

test('the admin kubeconfig is 0600 and holds the CA and an admin/system:masters client cert', async () => {
  const path = await writeAdminKubeconfig(dir, { serverUrl, pki });
  assert.equal(path, join(dir, 'kubeconfig.yaml'));
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const doc = parse(await readFile(path, 'utf8')) as KubeconfigDoc;
  assert.equal(doc.apiVersion, 'v1');
  assert.equal(doc['current-context'], 'trireme');
  assert.deepEqual(doc.contexts, [{ name: 'trireme', context: { cluster: 'trireme', user: 'admin' } }]);
  assert.equal(doc.clusters[0]!.name, 'trireme');
  assert.equal(doc.clusters[0]!.cluster.server, serverUrl);
  assert.equal(Buffer.from(doc.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString(), pki.caCertPem);
  assert.equal(doc.users[0]!.name, 'admin');
  const cert = new X509Certificate(Buffer.from(doc.users[0]!.user['client-certificate-data']!, 'base64'));
  assert.match(cert.subject, /CN=admin/);
  assert.match(cert.subject, /O=system:masters/);
  assert.ok(cert.verify(new X509Certificate(pki.caCertPem).publicKey));
});

test('Node https with the kubeconfig credentials authenticates as admin', async () => {
  const creds = parseKubeconfig(await readFile(await writeAdminKubeconfig(dir, { serverUrl, pki }), 'utf8'), 'kubeconfig.yaml');
  const body = await new Promise<string>((resolve, reject) => {
    https.get(`${creds.server}/version`, { ca: creds.caPem, cert: creds.certPem, key: creds.keyPem, agent: false }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(b) : reject(new Error(`status ${res.statusCode}: ${b}`))));
    }).on('error', reject);
  });
  assert.deepEqual(JSON.parse(body), VERSION);
  assert.deepEqual(seen.at(-1)?.user, { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
});

test('an existing valid kubeconfig is kept; a changed server, CA, or broken file is replaced', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'trireme-kubeconfig-keep-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  const p = await ensurePki(d, { sans: [] });
  const path = await writeAdminKubeconfig(d, { serverUrl: 'https://10.0.0.1:6443', pki: p });
  const first = await readFile(path, 'utf8');
  await writeAdminKubeconfig(d, { serverUrl: 'https://10.0.0.1:6443', pki: p });
  assert.equal(await readFile(path, 'utf8'), first);

  await writeAdminKubeconfig(d, { serverUrl: 'https://10.0.0.2:6443', pki: p });
  const moved = await readFile(path, 'utf8');
  assert.notEqual(moved, first);
  assert.equal(parseKubeconfig(moved, path).server, 'https://10.0.0.2:6443');

  await writeAdminKubeconfig(d, { serverUrl: 'https://10.0.0.2:6443', pki }); // another cluster's CA
  assert.equal(parseKubeconfig(await readFile(path, 'utf8'), path).caPem, pki.caCertPem);

  await writeFile(path, 'not: [valid');
  await writeAdminKubeconfig(d, { serverUrl: 'https://10.0.0.2:6443', pki: p });
  assert.equal(parseKubeconfig(await readFile(path, 'utf8'), path).caPem, p.caCertPem);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test('an admin kubeconfig whose certificate nears expiry is reissued', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'trireme-kubeconfig-exp-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  const start = Date.now();
  const p = await ensurePki(d, { sans: [], clock: new FakeClock(start) });
  const path = await writeAdminKubeconfig(d, { serverUrl, pki: p, clock: new FakeClock(start) });
  const first = await readFile(path, 'utf8');
  await writeAdminKubeconfig(d, { serverUrl, pki: p, clock: new FakeClock(start + 300 * DAY) });
  assert.equal(await readFile(path, 'utf8'), first);
  await writeAdminKubeconfig(d, { serverUrl, pki: p, clock: new FakeClock(start + 340 * DAY) });
  assert.notEqual(await readFile(path, 'utf8'), first);
});

test('kubectl accepts the CA and presents the client certificate', { skip: needs(deps.kubectl) }, async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'trireme-kubectl-home-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const path = await writeAdminKubeconfig(dir, { serverUrl, pki });
  const before = seen.length;
  const { stdout } = await promisify(execFile)(KUBECTL, ['--kubeconfig', path, 'get', '--raw', '/version'], {
    env: { ...process.env, HOME: home, KUBECONFIG: '' },
    timeout: 60_000,
  });
  assert.deepEqual(JSON.parse(stdout), VERSION);
  const requests = seen.slice(before);
  assert.ok(requests.some((r) => r.path === '/version'), JSON.stringify(requests));
  for (const r of requests) assert.equal(r.user?.name, 'admin', `request ${r.path} carried the admin certificate`);
});
