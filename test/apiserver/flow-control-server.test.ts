// Flow control in the real API server (in process, HTTPS on 127.0.48.1, tiny limits): mutating
// requests that trickle their bodies hold the seats of alice's level (she may edit in default); the next one is 429 with a
// Status, retryAfterSeconds and a Retry-After header, counted in /metrics; a node (system level)
// and the admin (exempt) are served meanwhile; once the held requests end, alice gets in again.
// A user's watches beyond the cap are refused the same way; the admin's never are.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { ClientRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/server.js';
import { openStore } from '../../src/storage/open.js';
import { silentLogger } from '../../src/util/log.js';
import { pollUntil } from '../../src/util/poll.js';

const HOST = '127.0.48.1';

interface Creds { cert: string; key: string }

describe('flow control in the API server', { timeout: 60_000 }, () => {
  let api: RunningApiServer;
  let dataDir: string;
  let alice: Creds;
  let node: Creds;
  let admin: Creds;
  const open: ClientRequest[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'trireme-flow-'));
    api = await startApiServer({
      dataDir, store: openStore({ backend: 'sqlite', dataDir }), bindAddress: HOST, port: 0, advertiseAddress: HOST, tlsSans: [], logger: silentLogger,
      flowLimits: { readOnly: 2, mutating: 2, watchesPerUser: 2 },
    });
    const issue = async (cn: string, o: string[]): Promise<Creds> => {
      const c = await api.pki.issueClientCert({ commonName: cn, organizations: o });
      return { cert: c.certPem, key: c.keyPem };
    };
    alice = await issue('alice', ['dev']);
    node = await issue('system:node:n1', ['system:nodes']);
    admin = await issue('admin', ['system:masters']);
  });

  after(async () => {
    for (const r of open) r.destroy();
    await api?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  function request(who: Creds, method: string, path: string, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: HOST, port: api.port, method, path, ca: api.pki.caCertPem, ...who, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A POST whose body never finishes: it holds a mutating seat until destroyed. */
  function trickle(who: Creds): ClientRequest {
    const req = https.request({ host: HOST, port: api.port, method: 'POST', path: '/api/v1/namespaces/default/configmaps', ca: api.pki.caCertPem, ...who, agent: false, headers: { 'content-type': 'application/json', 'content-length': 1000 } });
    req.on('error', () => undefined);
    req.write('{"apiVersion":"v1",');
    open.push(req);
    return req;
  }

  const cm = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });

  it('a full level answers 429 with Retry-After; nodes and the admin are still served; seats come back', async () => {
    const bind = await request(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'alice-edits' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    }));
    assert.equal(bind.status, 201, bind.text);
    const held = [trickle(alice), trickle(alice)];
    const refused = await pollUntil('alice refused', async () => {
      const r = await request(alice, 'POST', '/api/v1/namespaces/default/configmaps', cm('over'));
      return r.status === 429 ? r : undefined;
    }, { timeoutMs: 10_000, everyMs: 50 });
    const status = JSON.parse(refused.text) as { kind: string; reason: string; code: number; details?: { retryAfterSeconds?: number } };
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'TooManyRequests');
    assert.equal(status.code, 429);
    assert.equal(status.details?.retryAfterSeconds, 1);
    assert.equal(refused.headers['retry-after'], '1');

    const asNode = await request(node, 'GET', '/api/v1/nodes');
    assert.notEqual(asNode.status, 429, 'the system level has seats of its own');
    const asAdmin = await request(admin, 'POST', '/api/v1/namespaces/default/configmaps', cm('by-admin'));
    assert.equal(asAdmin.status, 201, asAdmin.text);
    const reads = await request(alice, 'GET', '/api/v1/namespaces/default/configmaps');
    assert.notEqual(reads.status, 429, 'read-only seats are apart from mutating ones');

    const metrics = await request(admin, 'GET', '/metrics');
    assert.match(metrics.text, /^trireme_apiserver_rejected_requests_total\{priority_level="workload",reason="inflight"\} [1-9]/m);

    for (const r of held) r.destroy();
    const again = await pollUntil('alice served again', async () => {
      const r = await request(alice, 'POST', '/api/v1/namespaces/default/configmaps', cm('after'));
      return r.status !== 429 ? r : undefined;
    }, { timeoutMs: 10_000, everyMs: 50 });
    assert.notEqual(again.status, 429);
  });

  it('watches beyond the per-user cap are refused; the admin has none', async () => {
    const watch = (who: Creds): Promise<{ status: number; text: string }> => new Promise((resolve, reject) => {
      const req = https.get({ host: HOST, port: api.port, path: '/api/v1/nodes?watch=true', ca: api.pki.caCertPem, ...who, agent: false }, (res) => {
        if (res.statusCode === 200) return resolve({ status: 200, text: '' }); // left open: it holds its place
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      open.push(req);
    });
    assert.equal((await watch(node)).status, 200);
    assert.equal((await watch(node)).status, 200);
    const third = await watch(node);
    assert.equal(third.status, 429, third.text);
    assert.match((JSON.parse(third.text) as { message: string }).message, /^too many long-running requests .* for user "system:node:n1": at most 2$/);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await watch(admin)).status);
    assert.deepEqual(statuses, [200, 200, 200], 'the admin has no cap');
  });
});
