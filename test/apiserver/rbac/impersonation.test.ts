// Impersonation: the pure header check, and both request paths of a real in-process API server
// (a plain request and the websocket upgrade of `pods/exec`) acting as the impersonated user.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AuthzAttributes, Decision, UserInfo } from '../../../src/apiserver/auth.js';
import { impersonate } from '../../../src/apiserver/rbac/impersonation.js';
import { loadKubeconfig } from '../../../src/client/config.js';
import { isTriremeError } from '../../../src/errors.js';
import { startTestApiServer, type TestApiServer } from '../../helpers/api-server.js';

const allowOnly = (allowed: (a: AuthzAttributes) => boolean) => (_u: UserInfo, a: AuthzAttributes): Decision => ({ allowed: allowed(a), reason: '' });
const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };

describe('impersonate (pure)', () => {
  it('without headers the requester acts as itself', () => {
    assert.deepEqual(impersonate({}, bob, allowOnly(() => false)), bob);
  });

  it('checks users, groups, uid and extras one by one and adds system:authenticated', () => {
    const asked: string[] = [];
    const u = impersonate(
      { 'impersonate-user': 'alice', 'impersonate-group': 'dev, ops', 'impersonate-uid': 'u-1', 'impersonate-extra-scopes%2Fa': 'x' },
      bob,
      (_u, a) => { asked.push(`${a.resource}${a.subresource ? `/${a.subresource}` : ''}:${a.name ?? ''}`); return { allowed: true, reason: '' }; },
    );
    assert.deepEqual(asked, ['users:alice', 'groups:dev', 'groups:ops', 'uids:u-1', 'userextras/scopes/a:x']);
    assert.deepEqual(u, { name: 'alice', groups: ['dev', 'ops', 'system:authenticated'], uid: 'u-1', extra: { 'scopes/a': ['x'] } });
  });

  it('a service account is checked on serviceaccounts in its namespace and gets its groups', () => {
    let seen: AuthzAttributes | undefined;
    const u = impersonate({ 'impersonate-user': 'system:serviceaccount:shop:builder' }, bob, (_u, a) => { seen = a; return { allowed: true, reason: '' }; });
    assert.equal(seen?.resource, 'serviceaccounts');
    assert.equal(seen?.namespace, 'shop');
    assert.equal(seen?.name, 'builder');
    assert.deepEqual(u.groups, ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated']);
  });

  it('refuses a group the requester may not impersonate, naming it, and groups without a user', () => {
    assert.throws(() => impersonate({ 'impersonate-user': 'alice', 'impersonate-group': 'system:masters' }, bob, allowOnly((a) => a.resource === 'users')),
      (e: unknown) => isTriremeError(e, 'Forbidden') && /cannot impersonate resource "groups"/.test((e as Error).message) && /"system:masters"/.test((e as Error).message));
    assert.throws(() => impersonate({ 'impersonate-group': 'dev' }, bob, allowOnly(() => true)), (e: unknown) => isTriremeError(e, 'BadRequest'));
    assert.throws(() => impersonate({ 'impersonate-user': 'system:serviceaccount:onlyns' }, bob, allowOnly(() => true)), (e: unknown) => isTriremeError(e, 'BadRequest'));
  });
});

describe('impersonation through the API server', () => {
  let api: TestApiServer;
  let admin: { ca: string; cert: string; key: string; host: string; port: number };

  before(async () => {
    api = await startTestApiServer('127.0.0.1');
    const cfg = loadKubeconfig(api.server.kubeconfigPath);
    const url = new URL(cfg.server);
    admin = { ca: cfg.caPem ?? '', cert: cfg.certPem ?? '', key: cfg.keyPem ?? '', host: url.hostname, port: Number(url.port) };
  });
  after(async () => {
    await api.close();
  });

  /** A request as the admin with `headers`; for an upgrade, the status line of the refusal. */
  function send(path: string, headers: Record<string, string>, upgrade: boolean): Promise<{ code: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: admin.host, port: admin.port, path, method: 'GET', ca: admin.ca, cert: admin.cert, key: admin.key,
        headers: { ...headers, ...(upgrade ? { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v4.channel.k8s.io' } : {}) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ code: res.statusCode ?? 101, body: '' }); });
      req.on('error', reject);
      req.end();
    });
  }

  const exec = '/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true';

  it('a plain request acts as the impersonated user (alice may not list pods)', async () => {
    assert.equal((await send('/api/v1/namespaces/default/pods', {}, false)).code, 200);
    const r = await send('/api/v1/namespaces/default/pods', { 'Impersonate-User': 'alice' }, false);
    assert.equal(r.code, 403);
    assert.match(r.body, /User \\"alice\\" cannot list resource \\"pods\\"/);
  });

  it('the exec upgrade acts as the impersonated user too', async () => {
    const asAdmin = await send(exec, {}, true);
    assert.equal(asAdmin.code, 404, 'the admin gets as far as the missing pod');
    const asAlice = await send(exec, { 'Impersonate-User': 'alice' }, true);
    assert.equal(asAlice.code, 403);
    assert.match(asAlice.body, /User \\"alice\\" cannot create resource \\"pods\/exec\\"/);
  });
});
