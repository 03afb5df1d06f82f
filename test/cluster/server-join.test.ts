// A joining server's bundle request (src/cluster/server-join.ts) against a real API server:
// a wrong secret is refused (no retry), a CA other than the pinned one is Forbidden before the
// secret is sent, a server without a managed etcd member refuses with a 409 naming
// --cluster-init, a bad request body is a 400 — and in every case nothing is written to the
// joiner's data dir. The happy path (a real managed etcd cluster) is in test/ha/three-servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/client/api-client.js';
import { requestJoinBundle } from '../../src/cluster/server-join.js';
import { isTriremeError } from '../../src/errors.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';

const HOST = '127.0.2.6';
const request = { name: 'j1', peerUrl: `https://${HOST}:2380`, clientUrl: `https://${HOST}:2379` };

describe('server join request', { timeout: 60_000 }, () => {
  let api: TestApiServer;
  let token = '';
  let joinerDir = '';

  before(async () => {
    api = await startTestApiServer(HOST);
    token = (await readFile(join(api.dataDir, 'token'), 'utf8')).trim();
    joinerDir = await mkdtemp(join(tmpdir(), 'trireme-server-join-'));
  });
  after(async () => {
    await api.close();
    await rm(joinerDir, { recursive: true, force: true });
  });

  const nothingWritten = async (): Promise<void> => assert.deepEqual(existsSync(joinerDir) ? await readdir(joinerDir) : [], []);

  it('a wrong secret is refused at once', async () => {
    const bad = `${token.slice(0, token.lastIndexOf(':') + 1)}wrong`;
    await assert.rejects(requestJoinBundle(api.server.url, bad, request, { retryForMs: 60_000 }),
      (e) => (isTriremeError(e, 'Unauthorized') || isTriremeError(e, 'Forbidden')) && /refused the join token/.test(e.message) && !e.message.includes('\n'));
    await nothingWritten();
  });

  it('a CA other than the pinned one is Forbidden', async () => {
    const pinned = token.replace(/^K10[0-9a-f]{64}/i, `K10${'0'.repeat(64)}`);
    await assert.rejects(requestJoinBundle(api.server.url, pinned, request), (e) => isTriremeError(e, 'Forbidden') && /not the one the join token pins/.test(e.message));
    await nothingWritten();
  });

  it('a server without a managed etcd member refuses, naming --cluster-init', async () => {
    await assert.rejects(requestJoinBundle(api.server.url, token, request), (e) => isTriremeError(e, 'Conflict') && /--cluster-init/.test(e.message));
    await nothingWritten();
  });

  it('a bad request body is a 400 naming the field', async () => {
    await assert.rejects(requestJoinBundle(api.server.url, token, { ...request, peerUrl: 'http://x:1' }), (e) => isTriremeError(e, 'BadRequest') && /peerUrl must be an https URL/.test(e.message));
    await assert.rejects(requestJoinBundle(api.server.url, token, { ...request, name: 'Not_A_Name' }), (e) => isTriremeError(e, 'BadRequest') && /name must be a DNS-1123 subdomain/.test(e.message));
    await nothingWritten();
  });

  it('the admin can read GET /trireme/v1/cluster of a SQLite server; the join token cannot', async () => {
    const status = await api.client.request<{ store: { backend: string; members: unknown[] }; servers: { address: string }[] }>('GET', '/trireme/v1/cluster');
    assert.equal(status.store.backend, 'sqlite');
    assert.deepEqual(status.store.members, []);
    assert.ok(status.servers.some((s) => s.address.startsWith(`${HOST}:`)), JSON.stringify(status.servers));
    const bootstrap = new ApiClient({ server: api.server.url, caPem: api.server.pki.caCertPem, token: token.slice(token.lastIndexOf(':') + 1) });
    try {
      await assert.rejects(bootstrap.request('GET', '/trireme/v1/cluster'), (e) => isTriremeError(e, 'Forbidden'));
      await assert.rejects(bootstrap.request('POST', '/trireme/v1/cluster/members/s9/remove', {}), (e) => isTriremeError(e, 'Forbidden'));
    } finally {
      bootstrap.close();
    }
    await assert.rejects(api.client.request('POST', '/trireme/v1/cluster/members/s9/remove', {}), (e) => isTriremeError(e, 'Conflict') && /no managed etcd member/.test(e.message));
  });
});
