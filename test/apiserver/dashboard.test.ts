// Dashboard tokens (src/apiserver/dashboard-token.ts) and the dashboard's paths on a real API
// server (127.0.70.20): the page is public and holds no data, its data needs a token, a token
// is read-only and minted by admins only, and no other credential form (cookie, query) counts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createDashboardTokens } from '../../src/apiserver/dashboard-token.js';
import { rawRequest, readCredentials, type Credentials } from '../e2e/harness/raw-http.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';

const key = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('dashboard tokens', () => {
  const caKey = key();
  const tokens = createDashboardTokens(caKey);
  const now = Date.parse('2026-12-02T10:00:00Z');

  it('verify as trireme:dashboard:<sub> until they expire, on any server holding the same CA key', () => {
    const { token, expiresAt } = tokens.mint('admin', now, 3600);
    assert.match(token, /^trd1\.[\w-]+\.[\w-]+$/);
    assert.equal(expiresAt, '2026-12-02T11:00:00.000Z');
    assert.deepEqual(createDashboardTokens(caKey).verify(token, now + 3599_000), { name: 'trireme:dashboard:admin', groups: ['trireme:dashboard'] });
    assert.equal(tokens.verify(token, now + 3600_000), undefined);
    // Issued more than a minute in the future: another server's clock is far off.
    assert.equal(tokens.verify(tokens.mint('admin', now + 120_000, 3600).token, now), undefined);
  });

  it('refuse another cluster\'s tokens, tampered claims and garbage', () => {
    const { token } = tokens.mint('admin', now, 3600);
    assert.equal(createDashboardTokens(key()).verify(token, now), undefined);
    const [p, body, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', iat: now / 1000, exp: now / 1000 + 999_999 })).toString('base64url');
    assert.equal(tokens.verify(`${p}.${forged}.${sig}`, now), undefined);
    assert.equal(tokens.verify(`${p}.${body}.`, now), undefined);
    for (const t of ['', 'trd1.', 'trd1..', 'trd1.x.y', 'nope', `${p}.${body}`]) assert.equal(tokens.verify(t, now), undefined, t);
  });

  it('mint only sane lifetimes', () => {
    for (const ttl of [59, 86401, 1.5, Number.NaN]) assert.throws(() => tokens.mint('admin', now, ttl), /ttlSeconds must be a whole number from 60 to 86400/);
    assert.throws(() => tokens.mint('', now), /subject/);
  });
});

describe('the dashboard on an API server', () => {
  let api: TestApiServer;
  let creds: Credentials;
  let token = '';
  const anon = (path: string, headers: Record<string, string> = {}, method = 'GET') => rawRequest(creds, path, { auth: false, headers, method });
  const withToken = (path: string, method = 'GET', body?: string) =>
    rawRequest(creds, path, { auth: false, method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ...(body ? { body } : {}) });

  before(async () => {
    api = await startTestApiServer('127.0.70.20');
    creds = readCredentials(api.server.kubeconfigPath);
    const minted = await rawRequest(creds, '/trireme/v1/dashboard/tokens', { method: 'POST', body: '{"ttlSeconds":600}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(minted.status, 201, minted.text);
    const doc = JSON.parse(minted.text) as { kind: string; token: string; subject: string; expiresAt: string };
    assert.equal(doc.kind, 'DashboardToken');
    assert.equal(doc.subject, 'admin');
    assert.ok(Date.parse(doc.expiresAt) - Date.now() <= 600_000);
    token = doc.token;
  });

  after(async () => {
    await api?.close();
  });

  it('serves the page, its modules and style to anyone, with a strict Content-Security-Policy', async () => {
    const page = await anon('/dashboard');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /<script type="module" src="\/dashboard\/app\.js">/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self';.*connect-src 'self'.*frame-ancestors 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    for (const [path, type] of [['/dashboard/app.js', /^text\/javascript/], ['/dashboard/rows.js', /^text\/javascript/], ['/dashboard/style.css', /^text\/css/]] as const) {
      const r = await anon(path);
      assert.equal(r.status, 200, path);
      assert.match(String(r.headers['content-type']), type, path);
    }
    assert.equal((await anon('/dashboard/')).status, 200);
    assert.equal((await anon('/dashboard/nope.js')).status, 404);
    assert.equal((await anon('/dashboard/../trireme/v1/cluster')).status, 401);
    assert.equal((await anon('/dashboard', {}, 'POST')).status, 401);
    assert.equal((await rawRequest(creds, '/dashboard', { method: 'POST', body: '{}' })).status, 405);
  });

  it('refuses the page\'s data without a token: 401 for every list, watch and status it reads', async () => {
    for (const path of ['/trireme/v1/cluster', '/trireme/v1/cluster/doctor', '/api/v1/nodes', '/api/v1/nodes?watch=true', '/apis/apps/v1/deployments',
      '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', '/api/v1/events?fieldSelector=type%3DWarning']) {
      const r = await anon(path);
      assert.equal(r.status, 401, `${path}: ${r.text}`);
      assert.equal((JSON.parse(r.text) as { reason: string }).reason, 'Unauthorized');
    }
    // A token anywhere but the Authorization header is no credential.
    assert.equal((await anon('/api/v1/nodes', { Cookie: `token=${token}; trireme-dashboard-token=${token}` })).status, 401);
    assert.equal((await anon(`/api/v1/nodes?token=${token}&access_token=${token}`)).status, 401);
    assert.equal((await anon('/api/v1/nodes', { Authorization: `Bearer ${token.slice(0, -2)}xx` })).status, 401);
  });

  it('with a token: reads what the page shows, and nothing else', async () => {
    for (const path of ['/trireme/v1/cluster', '/api/v1/nodes', '/apis/apps/v1/deployments', '/apis/apps/v1/daemonsets', '/apis/apps/v1/statefulsets',
      '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', '/api/v1/events?fieldSelector=type%3DWarning', '/api/v1/namespaces/default/pods']) {
      const r = await withToken(path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
    }
    const cluster = JSON.parse((await withToken('/trireme/v1/cluster')).text) as { kind: string; servers: { address: string }[] };
    assert.equal(cluster.kind, 'ClusterStatus');
    assert.equal(cluster.servers.length, 1);
    // The route exists only where the doctor is built; either way the token may ask.
    assert.notEqual((await withToken('/trireme/v1/cluster/doctor')).status, 403);

    const secrets = await withToken('/api/v1/namespaces/default/secrets');
    assert.equal(secrets.status, 403, secrets.text);
    assert.match(secrets.text, /User \\"trireme:dashboard:admin\\" cannot list resource \\"secrets\\"/);
    const create = await withToken('/api/v1/namespaces/default/configmaps', 'POST', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-dashboard' } }));
    assert.equal(create.status, 403, create.text);
    assert.equal((await withToken('/api/v1/namespaces/default/configmaps/kube-root-ca.crt', 'DELETE')).status, 403);
    assert.equal((await withToken('/trireme/v1/dashboard/tokens', 'POST', '{}')).status, 403, 'a token holder cannot mint tokens');
    assert.equal((await withToken('/trireme/v1/cluster/members/x/remove', 'POST', '{}')).status, 403);
    assert.equal((await withToken('/metrics')).status, 403);
  });

  it('mints only for admins, and only sane lifetimes', async () => {
    assert.equal((await anon('/trireme/v1/dashboard/tokens', { 'Content-Type': 'application/json' }, 'POST')).status, 401);
    const bad = await rawRequest(creds, '/trireme/v1/dashboard/tokens', { method: 'POST', body: '{"ttlSeconds":"8h"}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /ttlSeconds must be a number/);
    const long = await rawRequest(creds, '/trireme/v1/dashboard/tokens', { method: 'POST', body: '{"ttlSeconds":999999}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(long.status, 400, long.text);
    const none = await rawRequest(creds, '/trireme/v1/dashboard/tokens', { method: 'POST' });
    assert.equal(none.status, 201, none.text);
  });
});
