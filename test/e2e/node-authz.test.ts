// End-to-end: node restriction with a node's REAL credentials. One `trireme server` (no local
// agent) on 127.0.91.1 and two `trireme agent`s, n1 on 127.0.91.2 and n2 on 127.0.91.3; the test
// reads n1's client certificate from its data dir (agent/credentials/, written by the join,
// src/agent/node-join.ts) and asks the server as n1: n2's Secret (referenced by a pod on n2),
// n2's Node and Lease, a Secret no pod references and a non-mirror pod are refused; the Secret
// its own pod references and its own Node status are accepted. And the agent works under the
// restriction: a pod with a Secret volume and Secret env runs on each node and sees both values,
// and the server's 403 count is exactly the refusals the test asked for (none of the agents').
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { killAll, rawRequest, startAgent, startServer, waitFor, type AgentHandle, type Credentials, type ServerHandle } from './harness.js';

const NS = 'nodeauthz';
let server: ServerHandle;
let n1: AgentHandle;
let n2: AgentHandle;
let asN1: Credentials;

/** The agent's own client credentials (user system:node:<name>, group system:nodes). */
function nodeCredentials(a: AgentHandle): Credentials {
  const dir = join(a.dataDir, 'agent', 'credentials');
  const read = (f: string) => readFileSync(join(dir, f));
  return { server: server.url, ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') };
}

async function admin(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
  const r = await server.request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': contentType } }) });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as unknown;
}

function asNode(method: string, path: string, body?: unknown, contentType = 'application/merge-patch+json') {
  return rawRequest(asN1, path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': contentType } }) });
}

const secret = (name: string, value: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, stringData: { password: value } });

/** A pod on `node` that prints its Secret from the env and from the volume, then sleeps. */
function secretPod(name: string, node: string, secretName: string): unknown {
  const script = "const fs=require('fs');const dir=process.env.TRIREME_VOLUME_CREDS;"
    + "console.log('env=' + process.env.PASSWORD + ' file=' + fs.readFileSync(dir + '/password','utf8'));setInterval(()=>{},1000);";
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
    spec: {
      nodeName: node, terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'creds', secret: { secretName } }],
      containers: [{ name: 'main', image: 'node:20', command: ['node', '-e', script], volumeMounts: [{ name: 'creds', mountPath: '/etc/creds' }], env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: secretName, key: 'password' } } }] }],
    },
  };
}

describe('node restriction with a node\'s real credentials', { timeout: 180_000 }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.91.1', extraArgs: ['--service-cluster-ip-range', '127.91.0.0/16', '--service-node-port-range', '32550-32599'] });
    n1 = await startAgent(server, { host: '127.0.91.2', nodeName: 'n1' });
    n2 = await startAgent(server, { host: '127.0.91.3', nodeName: 'n2' });
    asN1 = nodeCredentials(n1);
    await admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    for (const [n, v] of [['n1-secret', 'one'], ['n2-secret', 'two'], ['lonely-secret', 'nobody']]) await admin('POST', `/api/v1/namespaces/${NS}/secrets`, secret(n!, v!));
    await admin('POST', `/api/v1/namespaces/${NS}/pods`, secretPod('on-n1', 'n1', 'n1-secret'));
    await admin('POST', `/api/v1/namespaces/${NS}/pods`, secretPod('on-n2', 'n2', 'n2-secret'));
  });

  after(async () => {
    try {
      if (server) {
        for (const p of ['on-n1', 'on-n2']) await server.request(`/api/v1/namespaces/${NS}/pods/${p}?gracePeriodSeconds=0`, { method: 'DELETE' }).catch(() => undefined);
        await waitFor('pods gone', async () => {
          const r = await server.request(`/api/v1/namespaces/${NS}/pods`);
          return r.status === 200 && (JSON.parse(r.text) as { items: unknown[] }).items.length === 0 ? true : undefined;
        }, 30_000, 200).catch(() => undefined);
      }
      await n1?.dispose();
      await n2?.dispose();
      await server?.dispose();
    } finally {
      killAll();
    }
  });

  test('the credentials are the node\'s: whoami says system:node:n1 in system:nodes', async () => {
    const r = await asNode('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, 'application/json');
    assert.equal(r.status, 201, r.text);
    const u = (JSON.parse(r.text) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    assert.equal(u.username, 'system:node:n1');
    assert.ok(u.groups.includes('system:nodes'));
  });

  test('n1 reads the Secret its own pod references, and no other', async () => {
    const own = await asNode('GET', `/api/v1/namespaces/${NS}/secrets/n1-secret`);
    assert.equal(own.status, 200, own.text);
    const other = await asNode('GET', `/api/v1/namespaces/${NS}/secrets/n2-secret`);
    assert.equal(other.status, 403, other.text);
    assert.match(other.text, /system:node:n1/);
    const lonely = await asNode('GET', `/api/v1/namespaces/${NS}/secrets/lonely-secret`);
    assert.equal(lonely.status, 403, lonely.text);
    const list = await asNode('GET', `/api/v1/namespaces/${NS}/secrets`);
    assert.equal(list.status, 403, list.text);
  });

  test('n1 writes its own Node status, not n2\'s Node, Lease or pods', async () => {
    const own = await asNode('PATCH', '/api/v1/nodes/n1/status', { status: { conditions: [] } });
    assert.equal(own.status, 200, own.text);
    const ownLabel = await asNode('PATCH', '/api/v1/nodes/n1', { metadata: { labels: { 'e2e.trireme.io/mark': 'x' } } });
    assert.equal(ownLabel.status, 200, ownLabel.text);
    for (const [path, body] of [
      ['/api/v1/nodes/n2', { metadata: { labels: { 'e2e.trireme.io/mark': 'x' } } }],
      ['/api/v1/nodes/n2/status', { status: { conditions: [] } }],
      ['/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2', { spec: { holderIdentity: 'n1' } }],
      [`/api/v1/namespaces/${NS}/pods/on-n2/status`, { status: { phase: 'Failed' } }],
    ] as const) {
      const r = await asNode('PATCH', path, body);
      assert.equal(r.status, 403, `${path}: ${r.text}`);
    }
    const restricted = await asNode('PATCH', '/api/v1/nodes/n1', { metadata: { labels: { 'node-restriction.kubernetes.io/tier': 'gold' } } });
    assert.equal(restricted.status, 403, restricted.text);
    assert.match(restricted.text, /not allowed to modify labels/);
  });

  test('n1 cannot create a pod that is not its mirror pod, nor one naming another node\'s Secret', async () => {
    const plain = await asNode('POST', `/api/v1/namespaces/${NS}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sneaky' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } }, 'application/json');
    assert.equal(plain.status, 403, plain.text);
    const steal = await asNode('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'steal', annotations: { 'kubernetes.io/config.mirror': 'h' } },
      spec: { nodeName: 'n1', volumes: [{ name: 'v', secret: { secretName: 'n2-secret' } }], containers: [{ name: 'c', image: 'x' }] },
    }, 'application/json');
    assert.equal(steal.status, 403, steal.text);
    // Still refused afterwards: no pod was stored, so no edge to n2-secret exists.
    assert.equal((await asNode('GET', `/api/v1/namespaces/${NS}/secrets/n2-secret`)).status, 403);
  });

  test('the agents run pods with a Secret volume and Secret env under the restriction', async () => {
    for (const [name, value] of [['on-n1', 'one'], ['on-n2', 'two']] as const) {
      await waitFor(`${name} Running`, async () => {
        const p = (await admin('GET', `/api/v1/namespaces/${NS}/pods/${name}`)) as Pod;
        return p.status?.phase === 'Running' ? true : undefined;
      }, 60_000, 250);
      let last = '';
      const log = await waitFor(`${name} logs its Secret`, async () => {
        const r = await server.request(`/api/v1/namespaces/${NS}/pods/${name}/log`);
        last = `${r.status} ${r.text}`;
        return r.status === 200 && r.text.includes('env=') ? r.text : undefined;
      }, 30_000, 250).catch((e: Error) => { throw new Error(`${e.message}; last answer: ${last}`); });
      assert.match(log, new RegExp(`env=${value} file=${value}`), log);
    }
  });

  test('nothing the agents did was refused: the server\'s 403s are exactly the ones this test asked for', async () => {
    const r = await server.request('/metrics', { headers: { Accept: 'text/plain' } });
    assert.equal(r.status, 200);
    const got: Record<string, number> = {};
    for (const line of r.text.split('\n')) {
      const m = /^apiserver_request_total\{(.*)\} (\d+)$/.exec(line);
      if (!m || !m[1]!.includes('code="403"')) continue;
      const label = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(m[1]!)?.[1] ?? '';
      const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
      got[key] = (got[key] ?? 0) + Number(m[2]);
    }
    assert.deepEqual(got, { 'get secrets': 3, 'list secrets': 1, 'patch nodes': 2, 'patch nodes/status': 1, 'patch leases': 1, 'patch pods/status': 1, 'create pods': 2 });
  });
});
