// End-to-end: the node Service proxy's userspace data plane (`--proxy-mode userspace`) with real
// processes — `trireme server --disable-agent`
// (127.0.23.1, ClusterIPs from 127.23.0.0/17, NodePorts from 32300-32349) and two
// `trireme agent`s on one machine (n1 on 127.0.23.2, n2 on 127.0.23.3). The Services have no
// selector; their Endpoints are written by the test and point at backends this test process runs
// (HTTP servers answering their name, UDP echo servers) on 127.0.23.20-22, as a user does for an
// outside service. Shown: TCP through a ClusterIP balanced over two backends; a dead backend
// retried on the other; an Endpoints change followed; UDP through a ClusterIP; NodePort on each
// node's IP; externalTrafficPolicy Local; sessionAffinity ClientIP; a deleted Service frees its
// ClusterIP:port; and the ClusterIP listener held by one agent of the two, taken over by the other
// after a kill -9 (internalTrafficPolicy Local shows which node holds it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll, sleep, startAgent, startServer, waitFor, type AgentHandle, type ServerHandle } from './harness.js';
import { answers, get, serviceFixtures, udpAsk, type HttpBackend } from './harness/services.js';

const SERVER_IP = '127.0.23.1';
const N1_IP = '127.0.23.2';
const N2_IP = '127.0.23.3';
const B1_IP = '127.0.23.20';
const B2_IP = '127.0.23.21';
const B3_IP = '127.0.23.22';
const NS = 'default';

let server: ServerHandle;
let n1: AgentHandle;
let n2: AgentHandle;
const closers: (() => void)[] = [];
const { httpBackend, udpBackend, api, createService, putEndpoints } = serviceFixtures(() => server, NS, closers);

function agentPid(a: AgentHandle): number {
  return (JSON.parse(readFileSync(join(a.dataDir, 'ready.json'), 'utf8')) as { pid: number }).pid;
}

describe('service proxy: ClusterIP, NodePort, UDP, affinity, traffic policy, takeover', { timeout: 180_000 }, () => {
  let b1: HttpBackend;
  let b2: HttpBackend;
  let b3: HttpBackend;

  before(async () => {
    server = await startServer({ host: SERVER_IP, extraArgs: ['--service-cluster-ip-range', '127.23.0.0/17', '--service-node-port-range', '32300-32349'] });
    [n1, n2] = await Promise.all([
      // The userspace data plane (round-robin, connect retry): nftables-proxy.test.ts covers the kernel one.
      startAgent(server, { host: N1_IP, nodeName: 'n1', extraArgs: ['--proxy-mode', 'userspace'] }),
      startAgent(server, { host: N2_IP, nodeName: 'n2', extraArgs: ['--proxy-mode', 'userspace'] }),
    ]);
    b1 = await httpBackend('b1', B1_IP);
    b2 = await httpBackend('b2', B2_IP);
    b3 = await httpBackend('b3', B3_IP);
  });

  after(async () => {
    for (const c of closers) c();
    await n1?.dispose();
    await n2?.dispose();
    await server?.dispose();
    killAll();
  });

  let webIp = '';

  test('TCP through a ClusterIP is balanced over both backends; a dead backend is retried on the other; Endpoints changes are followed', () => server.guard(async () => {
    const svc = await createService('web', { ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    webIp = svc.spec?.clusterIP ?? '';
    assert.match(webIp, /^127\.23\./);
    await putEndpoints('web', [[B1_IP, 'n1', b1.port], [B2_IP, 'n2', b2.port]], 'http');
    await waitFor('web answers through its ClusterIP from both backends', async () => {
      const got = new Set(await answers(webIp, 80, 4));
      return got.has('b1') && got.has('b2') ? true : undefined;
    }, 15_000, 100);
    const got = await answers(webIp, 80, 20);
    assert.equal(got.filter((x) => x === 'b1').length, 10, `round-robin: ${got.join(' ')}`);
    assert.equal(got.filter((x) => x === 'b2').length, 10);

    // b2 dies; its Endpoints entry stays (nobody updates it): every request still succeeds.
    await b2.close();
    const after = await answers(webIp, 80, 20);
    assert.deepEqual(new Set(after), new Set(['b1']), `after b2 died: ${after.join(' ')}`);

    // The Endpoints change to b3: the proxy follows.
    const t0 = Date.now();
    await putEndpoints('web', [[B3_IP, 'n1', b3.port]], 'http');
    await waitFor('web answered by b3', async () => ((await get(webIp, 80)) === 'b3' ? true : undefined), 10_000, 20);
    process.stdout.write(`service-proxy: Endpoints change served after ${Date.now() - t0} ms\n`);
    assert.deepEqual(new Set(await answers(webIp, 80, 5)), new Set(['b3']));
  }));

  test('the default/kubernetes Service: its first ClusterIP:443 reaches the API server over TLS', () => server.guard(async () => {
    const status = await waitFor('API through 127.23.0.1:443', () => new Promise<number | undefined>((resolve) => {
      const req = https.get({ host: '127.23.0.1', port: 443, path: '/version', rejectUnauthorized: false, agent: false, timeout: 3000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(undefined));
    }), 15_000, 100);
    assert.ok(status !== undefined && status < 500, `GET /version through the ClusterIP: ${status}`);
  }));

  test('UDP through a ClusterIP: replies come back, clients balanced over both backends', () => server.guard(async () => {
    const u1 = await udpBackend('u1', B1_IP);
    const u2 = await udpBackend('u2', B2_IP);
    const svc = await createService('echo', { ports: [{ name: 'echo', port: 53, protocol: 'UDP' }] });
    const ip = svc.spec?.clusterIP ?? '';
    await putEndpoints('echo', [[B1_IP, 'n1', u1.port], [B2_IP, 'n2', u2.port]], 'echo', 'UDP');
    await waitFor('echo answers through its ClusterIP', async () => ((await udpAsk(ip, 53, 'ping'))?.endsWith(':ping') ? true : undefined), 15_000, 100);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await udpAsk(ip, 53, `q${i}`);
      assert.match(r ?? 'no reply', new RegExp(`^u[12]:q${i}$`));
      seen.add(r!.split(':')[0]!);
    }
    assert.deepEqual(seen, new Set(['u1', 'u2']), 'each new client (source port) gets the next backend');
  }));

  test('NodePort answers on every node\'s IP; externalTrafficPolicy Local keeps each node to its own endpoints', () => server.guard(async () => {
    const c1 = await httpBackend('c1', B1_IP);
    const c2 = await httpBackend('c2', B2_IP);
    await createService('np', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 32310 }] });
    await createService('np-local', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 32311 }] });
    await putEndpoints('np', [[B1_IP, 'n1', c1.port], [B2_IP, 'n2', c2.port]], 'http');
    await putEndpoints('np-local', [[B1_IP, 'n1', c1.port], [B2_IP, 'n2', c2.port]], 'http');
    for (const nodeIp of [N1_IP, N2_IP]) {
      await waitFor(`NodePort on ${nodeIp}`, async () => (new Set(await answers(nodeIp, 32310, 4)).size === 2 ? true : undefined), 15_000, 100);
    }
    await waitFor('Local NodePort on n1', async () => ((await get(N1_IP, 32311)) === 'c1' ? true : undefined), 15_000, 100);
    assert.deepEqual(new Set(await answers(N1_IP, 32311, 6)), new Set(['c1']));
    assert.deepEqual(new Set(await answers(N2_IP, 32311, 6)), new Set(['c2']));
  }));

  test('sessionAffinity ClientIP: each client address sticks to one backend', () => server.guard(async () => {
    const d1 = await httpBackend('d1', B1_IP);
    const d2 = await httpBackend('d2', B2_IP);
    const svc = await createService('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ name: 'http', port: 80 }] });
    const ip = svc.spec?.clusterIP ?? '';
    await putEndpoints('sticky', [[B1_IP, 'n1', d1.port], [B2_IP, 'n2', d2.port]], 'http');
    await waitFor('sticky answers', async () => ((await get(ip, 80)).startsWith('d') ? true : undefined), 15_000, 100);
    const chosen = new Set<string>();
    for (const client of ['127.0.23.30', '127.0.23.31', '127.0.23.32', '127.0.23.33']) {
      const got = new Set(await answers(ip, 80, 8, client));
      assert.equal(got.size, 1, `client ${client} saw ${[...got].join(', ')}`);
      chosen.add([...got][0]!);
    }
    assert.deepEqual(chosen, new Set(['d1', 'd2']), 'new clients still go round-robin');
  }));

  test('deleting a Service closes its listener: nobody answers on its ClusterIP:port', () => server.guard(async () => {
    assert.equal(await get(webIp, 80), 'b3');
    await api('DELETE', `/api/v1/namespaces/${NS}/services/web`);
    await waitFor('web ClusterIP:80 refused', async () => ((await get(webIp, 80)) === 'ECONNREFUSED' ? true : undefined), 5_000, 50);
    // Free for anyone: this process can bind it now.
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(80, webIp, resolve); });
    await new Promise<void>((r) => s.close(() => r()));
  }));

  test('one ClusterIP:port, two agents on one machine: one holds it; kill -9 it and the other serves within about a second', () => server.guard(async () => {
    const e1 = await httpBackend('on-n1', B1_IP);
    const e2 = await httpBackend('on-n2', B2_IP);
    // Traffic policy Local: the answer names the node whose proxy holds the listener.
    const svc = await createService('held', { internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80 }] });
    const ip = svc.spec?.clusterIP ?? '';
    await putEndpoints('held', [[B1_IP, 'n1', e1.port], [B2_IP, 'n2', e2.port]], 'http');
    const first = await waitFor('held answers', async () => {
      const r = await get(ip, 80);
      return r.startsWith('on-') ? r : undefined;
    }, 15_000, 100);
    assert.deepEqual(new Set(await answers(ip, 80, 6)), new Set([first]), 'one holder serves every connection');
    const [holder, other] = first === 'on-n1' ? [n1, n2] : [n2, n1];
    process.kill(agentPid(holder), 'SIGKILL');
    const t0 = Date.now();
    await waitFor(`${other.nodeName} takes the listener over`, async () => ((await get(ip, 80)) === `on-${other.nodeName}` ? true : undefined), 10_000, 20);
    const took = Date.now() - t0;
    process.stdout.write(`service-proxy: ClusterIP listener taken over ${took} ms after kill -9 of its holder\n`);
    assert.ok(took < 3_000, `takeover took ${took} ms`);
    await sleep(100);
    assert.deepEqual(new Set(await answers(ip, 80, 6)), new Set([`on-${other.nodeName}`]));
  }));
});
