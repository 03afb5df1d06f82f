// End-to-end: the audit log of a real `trireme server` (127.0.90.2, no agent) with the real
// kubectl. A policy records core resources at RequestResponse and silences user "quiet" (None).
// kubectl create/get/delete of a ConfigMap and a Secret each give one line with the admin's
// user and groups, the verb, the code and the objectRef; the ConfigMap's body is recorded, the
// Secret's never (its line is at Metadata and its value is nowhere in the file); a request acting
// by "quiet" (its own client certificate) leaves no line, one by "loud" does, an impersonating
// one records both users; the in-process components' watches leave one ResponseStarted line
// each; /metrics carries trireme_audit_events_dropped_total.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { killAll, runKubectl, show, startServer, waitFor, type ServerHandle } from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';
import type { AuditEvent } from '../../src/apiserver/audit/event.js';
import { issueFromCa } from '../../src/apiserver/pki.js';
import { renderKubeconfig } from '../../src/apiserver/kubeconfig.js';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: ["quiet"]
  - level: RequestResponse
    resources:
      - group: ""
`;

describe('audit log with kubectl', { skip: needs(deps.kubectl) }, () => {
  let server: ServerHandle;
  let auditFile = '';
  let scratch = '';
  const secretValue = `AuditSecret${randomBytes(6).toString('hex')}`;
  const cmValue = `AuditConfig${randomBytes(6).toString('hex')}`;
  const events = async (): Promise<AuditEvent[]> => (existsSync(auditFile) ? (await readFile(auditFile, 'utf8')).trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent) : []);
  const ok = async (args: string[]): Promise<void> => {
    const r = await server.kubectl(args);
    assert.equal(r.code, 0, show(r));
  };
  const line = async (verb: string, resource: string, name: string): Promise<AuditEvent> => {
    try {
      return await waitFor(`an audit line for ${verb} ${resource}/${name}`, async () =>
        (await events()).find((e) => e.verb === verb && e.objectRef?.resource === resource && e.objectRef.name === name && e.user.username === 'admin'), 10_000, 100);
    } catch (e) {
      const near = (await events()).filter((x) => x.objectRef?.resource === resource).slice(-5);
      throw new Error(`${(e as Error).message}; last ${resource} lines: ${JSON.stringify(near)}`);
    }
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'trireme-audit-e2e-'));
    auditFile = join(scratch, 'audit.log');
    const policy = join(scratch, 'policy.yaml');
    await writeFile(policy, POLICY);
    server = await startServer({ host: '127.0.90.2', extraArgs: ['--service-cluster-ip-range', '127.91.0.0/16', '--audit-log-path', auditFile, '--audit-policy-file', policy] });
  });
  after(async () => {
    try { await server?.dispose(); } finally {
      killAll();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  });

  it('create/get/delete of a ConfigMap: user, verb, code, objectRef, and its body', () => server.guard(async () => {
    await ok(['create', 'configmap', 'audited', `--from-literal=v=${cmValue}`]);
    await ok(['get', 'configmap', 'audited']);
    await ok(['delete', 'configmap', 'audited']);
    const create = await line('create', 'configmaps', 'audited');
    assert.equal(create.apiVersion, 'audit.k8s.io/v1');
    assert.equal(create.stage, 'ResponseComplete');
    assert.equal(create.level, 'RequestResponse');
    assert.ok(create.user.groups.includes('system:masters'), JSON.stringify(create.user));
    assert.equal(create.responseStatus.code, 201);
    assert.deepEqual({ ...create.objectRef }, { resource: 'configmaps', namespace: 'default', name: 'audited', apiGroup: '', apiVersion: 'v1' });
    assert.match(create.requestURI, /^\/api\/v1\/namespaces\/default\/configmaps/);
    assert.match(create.userAgent ?? '', /kubectl/);
    assert.match(create.sourceIPs[0] ?? '', /^127\./);
    assert.ok(Number(create.annotations['trireme.dev/latency-ms']) >= 0);
    assert.ok(Date.parse(create.stageTimestamp) >= Date.parse(create.requestReceivedTimestamp));
    assert.equal((create.requestObject as { data?: { v?: string } }).data?.v, cmValue, 'the ConfigMap body is recorded at RequestResponse');
    assert.equal((await line('get', 'configmaps', 'audited')).responseStatus.code, 200);
    assert.equal((await line('delete', 'configmaps', 'audited')).responseStatus.code, 200);
  }));

  it('create/get/delete of a Secret: lines at Metadata, its data never in the file', () => server.guard(async () => {
    await ok(['create', 'secret', 'generic', 'audited', `--from-literal=password=${secretValue}`]);
    await ok(['get', 'secret', 'audited', '-o', 'yaml']);
    await ok(['delete', 'secret', 'audited']);
    const missing = await server.kubectl(['get', 'secret', 'audited']);
    assert.notEqual(missing.code, 0, show(missing));
    for (const verb of ['create', 'get', 'delete']) {
      const e = await line(verb, 'secrets', 'audited');
      assert.equal(e.level, 'Metadata');
      assert.equal(e.requestObject, undefined);
      assert.equal(e.responseObject, undefined);
      assert.deepEqual({ ...e.objectRef }, { resource: 'secrets', namespace: 'default', name: 'audited', apiGroup: '', apiVersion: 'v1' });
    }
    assert.equal((await line('create', 'secrets', 'audited')).responseStatus.code, 201);
    const notFound = await waitFor('the 404 line', async () => (await events()).find((e) => e.verb === 'get' && e.objectRef?.resource === 'secrets' && e.responseStatus.code === 404), 10_000, 100);
    assert.equal(notFound.responseStatus.message, undefined, 'no refusal message for Secrets');
    const text = await readFile(auditFile, 'utf8');
    assert.ok(!text.includes(secretValue) && !text.includes(Buffer.from(secretValue).toString('base64')), 'the Secret\'s data is nowhere in the audit log');
    assert.ok(!(await readFile(server.logFile, 'utf8')).includes(secretValue), 'nor in the server log');
  }));

  it('a None rule silences a user; impersonation is recorded', () => server.guard(async () => {
    // Users with their own client certificates from the cluster CA: the policy matches who authenticated.
    const ca = { caCertPem: await readFile(join(server.dataDir, 'tls', 'ca.crt'), 'utf8'), caKeyPem: await readFile(join(server.dataDir, 'tls', 'ca.key'), 'utf8') };
    const kubeconfigFor = async (user: string): Promise<string> => {
      const cert = await issueFromCa(ca, { commonName: user, organizations: ['system:masters'], usages: ['clientAuth'] });
      const file = join(scratch, `${user}.kubeconfig`);
      await writeFile(file, renderKubeconfig({ serverUrl: server.url, caCertPem: ca.caCertPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, userName: user }), { mode: 0o600 });
      return file;
    };
    const quiet = await runKubectl(await kubeconfigFor('quiet'), server.scratch, ['get', 'configmap', 'quiet-probe']);
    assert.notEqual(quiet.code, 0, show(quiet));
    const loud = await runKubectl(await kubeconfigFor('loud'), server.scratch, ['get', 'configmap', 'loud-probe']);
    assert.notEqual(loud.code, 0, show(loud));
    await ok(['get', 'configmaps', '--as', 'someone', '--as-group', 'system:masters']);
    const probe = await waitFor('the loud line', async () => (await events()).find((e) => e.user.username === 'loud' && e.objectRef?.name === 'loud-probe'), 10_000, 100);
    assert.equal(probe.responseStatus.code, 404);
    const as = await waitFor('the impersonated line', async () => (await events()).find((e) => e.impersonatedUser?.username === 'someone'), 10_000, 100);
    assert.equal(as.user.username, 'admin');
    assert.equal((await events()).filter((e) => e.user.username === 'quiet' || e.objectRef?.name === 'quiet-probe').length, 0);
  }));

  it('a websocket exec upgrade is audited (refused: no such pod)', () => server.guard(async () => {
    const c = server.creds();
    const code = await new Promise<number>((resolve, reject) => {
      const req = https.request(`${server.url}/api/v1/namespaces/default/pods/ghost/exec?command=true&stdout=true`, {
        ca: c.ca, cert: c.cert, key: c.key, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' },
      });
      req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(code, 404);
    const e = await waitFor('the exec line', async () => (await events()).find((x) => x.objectRef?.subresource === 'exec' && x.objectRef.name === 'ghost'), 10_000, 100);
    assert.equal(e.verb, 'create');
    assert.equal(e.user.username, 'admin');
    assert.equal(e.responseStatus.code, 404);
  }));

  it('watches leave one ResponseStarted line; the dropped counter is on /metrics', () => server.guard(async () => {
    const watch = await waitFor('a watch line', async () => (await events()).find((e) => e.verb === 'watch'), 10_000, 100);
    assert.equal(watch.stage, 'ResponseStarted');
    assert.equal(watch.responseStatus.code, 200);
    const m = await server.request('/metrics');
    assert.match(m.text, /^trireme_audit_events_dropped_total 0$/m);
  }));
});
