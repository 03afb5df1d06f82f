import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, type IssuedCert, type Pki } from '../../src/apiserver/pki.js';
import { authorize, createAuthenticator, type AuthzAttributes, type UserInfo } from '../../src/apiserver/auth.js';

let dir: string;
let otherDir: string;
let pki: Pki;
let foreign: Pki;
let server: https.Server;
let port: number;
const tokens = new Map<string, UserInfo>([['s3cret-token-value', { name: 'robot', groups: ['trireme:read-only'] }]]);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trireme-auth-'));
  otherDir = await mkdtemp(join(tmpdir(), 'trireme-auth-other-'));
  pki = await ensurePki(dir, { sans: [] });
  foreign = await ensurePki(otherDir, { sans: [] });
  const authn = createAuthenticator({ caCertPem: pki.caCertPem, tokens });
  server = https.createServer(
    { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ user: authn.authenticate(req) ?? null }));
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.close();
  await Promise.all([rm(dir, { recursive: true, force: true }), rm(otherDir, { recursive: true, force: true })]);
});

/** One request on a fresh connection, trusting our CA, with optional client credentials. */
function whoami(opts: { client?: IssuedCert; headers?: Record<string, string>; servername?: string } = {}): Promise<UserInfo | null> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port,
      path: '/whoami',
      ca: pki.caCertPem,
      agent: false,
      headers: opts.headers,
      ...(opts.servername ? { servername: opts.servername } : {}),
      ...(opts.client ? { cert: opts.client.certPem, key: opts.client.keyPem } : {}),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve((JSON.parse(body) as { user: UserInfo | null }).user));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a client certificate from the cluster CA authenticates as CN with O as groups', async () => {
  const admin = await pki.issueClientCert({ commonName: 'admin', organizations: ['system:masters'] });
  assert.deepEqual(await whoami({ client: admin }), { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
  const node = await pki.issueClientCert({ commonName: 'system:node:n1', organizations: ['system:nodes', 'team-a'] });
  assert.deepEqual(await whoami({ client: node }), { name: 'system:node:n1', groups: ['system:nodes', 'team-a', 'system:authenticated'] });
  const lone = await pki.issueClientCert({ commonName: 'alice', organizations: [] });
  assert.deepEqual(await whoami({ client: lone }), { name: 'alice', groups: ['system:authenticated'] });
});

test('the serving certificate verifies for the names clients use', async () => {
  // Node checks the server identity; these would throw on a SAN mismatch.
  assert.equal(await whoami({ servername: 'kubernetes.default.svc' }), null);
  assert.equal(await whoami({ servername: 'localhost' }), null);
});

test('a bearer token authenticates as its user', async () => {
  assert.deepEqual(await whoami({ headers: { authorization: 'Bearer s3cret-token-value' } }), { name: 'robot', groups: ['trireme:read-only', 'system:authenticated'] });
  assert.deepEqual(await whoami({ headers: { authorization: 'bearer   s3cret-token-value' } }), { name: 'robot', groups: ['trireme:read-only', 'system:authenticated'] });
});

test('no credentials, unknown or malformed tokens authenticate nobody', async () => {
  assert.equal(await whoami(), null);
  assert.equal(await whoami({ headers: { authorization: 'Bearer wrong' } }), null);
  assert.equal(await whoami({ headers: { authorization: 'Bearer s3cret-token-valu' } }), null);
  assert.equal(await whoami({ headers: { authorization: 'Basic czNjcmV0LXRva2VuLXZhbHVl' } }), null);
  assert.equal(await whoami({ headers: { authorization: 's3cret-token-value' } }), null);
});

test('a certificate from another CA is not accepted, but a valid token on the same request is', async () => {
  const stranger = await foreign.issueClientCert({ commonName: 'admin', organizations: ['system:masters'] });
  assert.equal(await whoami({ client: stranger }), null);
  assert.deepEqual(await whoami({ client: stranger, headers: { authorization: 'Bearer s3cret-token-value' } }), { name: 'robot', groups: ['trireme:read-only', 'system:authenticated'] });
});

test('a serving certificate presented as a client certificate is not an identity', async () => {
  const asClient: IssuedCert = { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem };
  assert.equal(await whoami({ client: asClient }), null);
});

test('tokens added to the map later are accepted', async () => {
  tokens.set('late-token', { name: 'late', groups: [] });
  assert.deepEqual(await whoami({ headers: { authorization: 'Bearer late-token' } }), { name: 'late', groups: ['system:authenticated'] });
  tokens.delete('late-token');
  assert.equal(await whoami({ headers: { authorization: 'Bearer late-token' } }), null);
});

// ---------------------------------------------------------------------------------------
// authorize

const admin: UserInfo = { name: 'admin', groups: ['system:masters'] };
const node1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes'] };
const reader: UserInfo = { name: 'viewer', groups: ['trireme:read-only'] };
const plain: UserInfo = { name: 'bob', groups: [] };

function res(verb: string, resource: string, more: Partial<AuthzAttributes> = {}): AuthzAttributes {
  return { verb, group: '', resource, ...more };
}
function path(p: string, verb = 'get'): AuthzAttributes {
  return { verb, group: '', resource: '', path: p };
}
function allowed(user: UserInfo | undefined, a: AuthzAttributes): boolean {
  return authorize(user, a).allowed;
}

test('system:masters may do anything', () => {
  assert.ok(allowed(admin, res('delete', 'secrets', { namespace: 'kube-system', name: 'x' })));
  assert.ok(allowed(admin, res('create', 'deployments', { group: 'apps', namespace: 'default' })));
  assert.ok(allowed(admin, res('create', 'pods', { subresource: 'exec', namespace: 'default', name: 'p' })));
  assert.ok(allowed(admin, path('/metrics')));
  assert.ok(allowed(admin, path('/anything', 'post')));
  assert.match(authorize(admin, path('/metrics')).reason, /cluster-admin/);
});

test('the fixed rules give nodes no grant of their own (the node authorizer decides)', () => {
  assert.ok(!allowed(node1, res('list', 'pods')));
  assert.ok(!allowed(node1, res('get', 'secrets', { namespace: 'default', name: 's' })));
  assert.ok(!allowed(node1, res('patch', 'nodes', { subresource: 'status', name: 'n1' })));
  assert.ok(!allowed(node1, res('create', 'pods', { namespace: 'default' })));
  assert.ok(!allowed(node1, path('/metrics')));
  // What every authenticated user gets still applies.
  assert.ok(allowed(node1, path('/api/v1')));
  assert.ok(allowed(node1, path('/readyz')));
});

test('read-only users read everything but secrets and interactive subresources', () => {
  assert.ok(allowed(reader, res('list', 'pods')));
  assert.ok(allowed(reader, res('watch', 'deployments', { group: 'apps', namespace: 'default' })));
  assert.ok(allowed(reader, res('get', 'pods', { subresource: 'log', namespace: 'default', name: 'p' })));
  assert.ok(allowed(reader, res('get', 'configmaps', { namespace: 'default', name: 'c' })));
  assert.ok(!allowed(reader, res('get', 'secrets', { namespace: 'default', name: 's' })));
  assert.ok(!allowed(reader, res('list', 'secrets')));
  assert.ok(!allowed(reader, res('get', 'pods', { subresource: 'exec', namespace: 'default', name: 'p' })));
  assert.ok(!allowed(reader, res('create', 'pods', { namespace: 'default' })));
  assert.ok(!allowed(reader, res('delete', 'configmaps', { namespace: 'default', name: 'c' })));
  const d = authorize(reader, res('get', 'secrets', { namespace: 'default', name: 's' }));
  assert.equal(d.reason, 'User "viewer" cannot get resource "secrets" in API group "" in the namespace "default"');
});

test('the cluster DNS identity reads Services, Endpoints and Pods, and nothing else', () => {
  const dns: UserInfo = { name: 'system:trireme-dns', groups: ['trireme:dns'] };
  for (const r of ['services', 'endpoints', 'pods']) {
    for (const verb of ['get', 'list', 'watch']) assert.ok(allowed(dns, res(verb, r)), `${verb} ${r}`);
    assert.ok(!allowed(dns, res('create', r, { namespace: 'default' })), `create ${r}`);
  }
  assert.ok(allowed(dns, path('/readyz')), 'the balancer probes /readyz');
  assert.ok(!allowed(dns, res('get', 'secrets', { namespace: 'kube-system', name: 'trireme-dns-kubeconfig' })));
  assert.ok(!allowed(dns, res('list', 'nodes')));
  assert.ok(!allowed(dns, res('get', 'pods', { subresource: 'exec', namespace: 'default', name: 'p' })));
  assert.ok(!allowed(dns, res('list', 'deployments', { group: 'apps' })));
});

test('any authenticated user may read discovery, version and health; nothing else', () => {
  for (const p of ['/version', '/healthz', '/livez', '/readyz', '/api', '/api/v1', '/apis', '/apis/apps/v1', '/openapi/v3', '/openapi/v3/apis/apps/v1']) {
    assert.ok(allowed(plain, path(p)), p);
  }
  assert.ok(!allowed(plain, path('/api', 'post')));
  assert.ok(!allowed(plain, path('/metrics')));
  assert.ok(!allowed(plain, res('list', 'pods')));
  assert.equal(authorize(plain, res('list', 'nodes')).reason, 'User "bob" cannot list resource "nodes" in API group "" at the cluster scope');
});

test('unauthenticated requests may only read version and health', () => {
  for (const p of ['/version', '/healthz', '/livez', '/readyz']) assert.ok(allowed(undefined, path(p)), p);
  for (const p of ['/api', '/apis', '/openapi/v2', '/metrics', '/healthz/etcd']) assert.ok(!allowed(undefined, path(p)), p);
  assert.ok(!allowed(undefined, res('get', 'namespaces', { name: 'default' })));
  assert.match(authorize(undefined, path('/api')).reason, /system:anonymous/);
});

test('resource rules never match non-resource requests and vice versa', () => {
  // A resource literally named like a path, or a path with resource set, must not slip through.
  assert.ok(!allowed(plain, { verb: 'get', group: '', resource: 'version', path: '/version' }));
  assert.ok(!allowed(reader, path('/metrics')));
});
