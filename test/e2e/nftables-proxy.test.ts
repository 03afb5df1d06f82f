// End-to-end: the Service proxy's kernel data plane (nftables, as root) with real processes —
// `trireme server --disable-agent` (127.0.30.1, ClusterIPs from 127.30.0.0/16, NodePorts
// 32450-32499) and agents on one machine with `--proxy-mode auto`: n1 (127.0.30.2) and
// n2 (127.0.30.3); n3 (127.0.30.4) with `--proxy-mode userspace` for the fallback. Services have
// no selector; their Endpoints point at HTTP and UDP echo servers of this process on
// 127.0.30.20-22. Shown: TCP through a ClusterIP and NodePort with no process listening on them
// (the kernel DNATs); UDP through the lock holder's userspace listener; an Endpoints change applied; a dead endpoint left out of the rules;
// the userspace fallback serving its NodePort from a listener; the cluster table rewritten by the
// other agent after the holder's kill -9 (traffic policy Local names the writer) and the dead
// agent's node table swept; a stale table of no live owner deleted while a table whose lock is
// held is kept; a graceful stop of the last agent deletes its tables.
// Touches only nftables tables named after this run's cluster CA and two tables of random names
// it creates itself; after() deletes all of them, whatever happened.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbstractSocketLock } from '../../src/agent/proxy/machine-lock.js';
import { clusterTable, deleteScript, nodeTable, parseTables } from '../../src/agent/proxy/nft-ruleset.js';
import { listenerOwner, listeningInodes } from '../../src/launch/socket-owner.js';
import { silentLogger } from '../../src/util/log.js';
import { deps, needs } from '../helpers/require-dep.js';
import { killAll, sleep, startAgent, startServer, waitFor, type AgentHandle, type ServerHandle } from './harness.js';
import { answers, get, serviceFixtures, udpAsk, type HttpBackend } from './harness/services.js';

const SERVER_IP = '127.0.30.1';
const N1_IP = '127.0.30.2';
const N2_IP = '127.0.30.3';
const N3_IP = '127.0.30.4';
const B1_IP = '127.0.30.20';
const B2_IP = '127.0.30.21';
const B3_IP = '127.0.30.22';
const NS = 'default';

let server: ServerHandle;
let n1: AgentHandle;
let n2: AgentHandle;
let n3: AgentHandle | undefined;
const closers: (() => void)[] = [];
const { httpBackend, udpBackend, createService, putEndpoints } = serviceFixtures(() => server, NS, closers);
/** Every table this run may have caused to exist. */
const ourTables = new Set<string>();

const rootOnly = process.getuid?.() === 0 ? false : 'needs root (nftables)';

function nft(args: string[], input?: string): string {
  return execFileSync('nft', args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
}
function tables(): string[] {
  return parseTables(nft(['list', 'tables', 'ip']));
}
function tableText(name: string): string {
  return nft(['list', 'table', 'ip', name]);
}

function nobodyListens(protocol: 'TCP' | 'UDP', ip: string, port: number): boolean {
  const text = readFileSync(protocol === 'TCP' ? '/proc/net/tcp' : '/proc/net/udp', 'utf8');
  return listeningInodes(text, protocol, ip, port).size === 0;
}

function agentPid(a: AgentHandle): number {
  return (JSON.parse(readFileSync(join(a.dataDir, 'ready.json'), 'utf8')) as { pid: number }).pid;
}

describe('service proxy, nftables data plane', { timeout: 240_000, skip: needs(deps.nft) || rootOnly }, () => {
  let caPem = '';
  let cluster = '';
  let b1: HttpBackend;
  let b2: HttpBackend;
  let b3: HttpBackend;

  before(async () => {
    server = await startServer({ host: SERVER_IP, extraArgs: ['--service-cluster-ip-range', '127.30.0.0/16', '--service-node-port-range', '32450-32499'] });
    n1 = await startAgent(server, { host: N1_IP, nodeName: 'n1', extraArgs: ['--proxy-mode', 'auto'] });
    caPem = readFileSync(join(n1.dataDir, 'agent', 'credentials', 'ca.crt'), 'utf8');
    cluster = clusterTable(caPem).table;
    for (const t of [cluster, nodeTable(caPem, 'n1').table, nodeTable(caPem, 'n2').table, nodeTable(caPem, 'n3').table]) ourTables.add(t);
    // n1 alone first: it takes the machine lock, so the cluster table is n1's.
    await waitFor('n1 writes the cluster table', async () => (tables().includes(cluster) ? true : undefined), 15_000, 100);
    n2 = await startAgent(server, { host: N2_IP, nodeName: 'n2', extraArgs: ['--proxy-mode', 'auto'] });
    b1 = await httpBackend('b1', B1_IP);
    b2 = await httpBackend('b2', B2_IP);
    b3 = await httpBackend('b3', B3_IP);
  });

  after(async () => {
    for (const c of closers) c();
    await n3?.dispose().catch(() => undefined);
    await n1?.dispose().catch(() => undefined);
    await n2?.dispose().catch(() => undefined);
    await server?.dispose().catch(() => undefined);
    killAll();
    for (const t of ourTables) {
      try {
        nft(['-f', '-'], deleteScript(t));
      } catch {
        // already gone
      }
    }
  });

  let webIp = '';

  test('TCP through a ClusterIP: DNAT to both endpoints, nobody listens on the ClusterIP; an Endpoints change is applied', () => server.guard(async () => {
    const svc = await createService('web', { ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    webIp = svc.spec?.clusterIP ?? '';
    assert.match(webIp, /^127\.30\./);
    await putEndpoints('web', [[B1_IP, 'n1', b1.port], [B2_IP, 'n2', b2.port]], 'http');
    await waitFor('web answers through its ClusterIP from both endpoints', async () => {
      const got = new Set(await answers(webIp, 80, 6));
      return got.has('b1') && got.has('b2') ? true : undefined;
    }, 15_000, 100);
    assert.ok(nobodyListens('TCP', webIp, 80), 'no process listens on the ClusterIP: the kernel path answered');
    const rules = tableText(cluster);
    assert.match(rules, new RegExp(`${webIp.replace(/\./g, '\\.')} \\. tcp \\. 80`));
    assert.match(rules, new RegExp(`dnat to ${B1_IP.replace(/\./g, '\\.')}:${b1.port}`));
    assert.match(rules, /numgen random mod 2/);

    const t0 = Date.now();
    await putEndpoints('web', [[B3_IP, 'n1', b3.port]], 'http');
    await waitFor('web answered by b3 only', async () => (new Set(await answers(webIp, 80, 4)).size === 1 && (await get(webIp, 80)) === 'b3' ? true : undefined), 10_000, 20);
    process.stdout.write(`nftables-proxy: Endpoints change in the kernel rules after ${Date.now() - t0} ms\n`);
    assert.ok(!tableText(cluster).includes(`${B1_IP}:${b1.port}`), 'the old endpoints left the rules');
  }));

  test('a dead endpoint (still listed Ready) is left out of the rules until it answers again', () => server.guard(async () => {
    const e1 = await httpBackend('e1', B1_IP);
    let e2 = await httpBackend('e2', B2_IP);
    const svc = await createService('flaky', { ports: [{ name: 'http', port: 80 }] });
    const ip = svc.spec?.clusterIP ?? '';
    await putEndpoints('flaky', [[B1_IP, 'n1', e1.port], [B2_IP, 'n2', e2.port]], 'http');
    await waitFor('flaky answers from both', async () => (new Set(await answers(ip, 80, 8)).size === 2 ? true : undefined), 15_000, 100);
    const port2 = e2.port;
    await e2.close();
    const t0 = Date.now();
    await waitFor('e2 left out of the rules', async () => (tableText(cluster).includes(`${B2_IP}:${port2}`) ? undefined : true), 5_000, 20);
    process.stdout.write(`nftables-proxy: dead endpoint out of the rules ${Date.now() - t0} ms after it closed\n`);
    assert.deepEqual(new Set(await answers(ip, 80, 20)), new Set(['e1']));
    // It comes back on the same port: back in the rules.
    e2 = await new Promise<HttpBackend>((resolve) => {
      const s = http.createServer((_req, res) => res.end('e2'));
      s.listen(port2, B2_IP, () => {
        closers.push(() => s.close());
        resolve({ name: 'e2', ip: B2_IP, port: port2, close: () => new Promise((r) => s.close(() => r())) });
      });
    });
    await waitFor('e2 back in the rules', async () => (new Set(await answers(ip, 80, 8)).size === 2 ? true : undefined), 5_000, 50);
  }));

  test('UDP through a ClusterIP, served in userspace by the lock holder: replies come back from both endpoints', () => server.guard(async () => {
    const u1 = await udpBackend('u1', B1_IP);
    const u2 = await udpBackend('u2', B2_IP);
    const svc = await createService('echo', { ports: [{ name: 'echo', port: 53, protocol: 'UDP' }] });
    const ip = svc.spec?.clusterIP ?? '';
    await putEndpoints('echo', [[B1_IP, 'n1', u1.port], [B2_IP, 'n2', u2.port]], 'echo', 'UDP');
    const seen = await waitFor('echo answers from both through its ClusterIP', async () => {
      const got = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const r = await udpAsk(ip, 53, `q${i}`);
        if (r === undefined || !r.endsWith(`:q${i}`)) return undefined;
        got.add(r.split(':')[0] ?? '');
      }
      return got.size === 2 ? got : undefined;
    }, 15_000, 100);
    assert.deepEqual(seen, new Set(['u1', 'u2']));
    assert.ok(!nobodyListens('UDP', ip, 53), 'UDP stays in userspace: the holder is bound to the ClusterIP');
    assert.ok(!nft(['list', 'ruleset']).includes(`${ip} . udp`), 'no UDP DNAT in the kernel rules');
  }));

  test('NodePort on each node IP through the kernel; externalTrafficPolicy Local; the userspace fallback serves its NodePort from a listener', () => server.guard(async () => {
    const c1 = await httpBackend('c1', B1_IP);
    const c2 = await httpBackend('c2', B2_IP);
    await createService('np', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 32460 }] });
    await createService('np-local', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 32461 }] });
    await putEndpoints('np', [[B1_IP, 'n1', c1.port], [B2_IP, 'n2', c2.port]], 'http');
    await putEndpoints('np-local', [[B1_IP, 'n1', c1.port], [B2_IP, 'n2', c2.port]], 'http');
    for (const nodeIp of [N1_IP, N2_IP]) {
      await waitFor(`NodePort on ${nodeIp}`, async () => (new Set(await answers(nodeIp, 32460, 8)).size === 2 ? true : undefined), 15_000, 100);
      assert.ok(nobodyListens('TCP', nodeIp, 32460), `no listener on ${nodeIp}:32460`);
    }
    await waitFor('Local NodePort on n1', async () => ((await get(N1_IP, 32461)) === 'c1' ? true : undefined), 15_000, 100);
    assert.deepEqual(new Set(await answers(N1_IP, 32461, 6)), new Set(['c1']));
    assert.deepEqual(new Set(await answers(N2_IP, 32461, 6)), new Set(['c2']));

    n3 = await startAgent(server, { host: N3_IP, nodeName: 'n3', extraArgs: ['--proxy-mode', 'userspace'] });
    const pid3 = agentPid(n3);
    await waitFor('n3 listens on its NodePort', async () => (listenerOwner('TCP', N3_IP, 32460, [pid3]) === pid3 ? true : undefined), 15_000, 100);
    assert.deepEqual(new Set(await answers(N3_IP, 32460, 10)), new Set(['c1', 'c2']), 'userspace round-robin over both');
    assert.ok(!tables().includes(nodeTable(caPem, 'n3').table), 'a userspace agent writes no node table');
    await n3.dispose();
    n3 = undefined;
  }));

  test('the holder killed -9: its rules keep answering, n2 takes the lock and rewrites the table; the dead node table is swept', () => server.guard(async () => {
    const on1 = await httpBackend('on-n1', B1_IP);
    const on2 = await httpBackend('on-n2', B2_IP);
    // Traffic policy Local: the answer names the node whose agent wrote the cluster table.
    const svc = await createService('held', { internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80 }] });
    const ip = svc.spec?.clusterIP ?? '';
    await putEndpoints('held', [[B1_IP, 'n1', on1.port], [B2_IP, 'n2', on2.port]], 'http');
    await waitFor('held answers from n1 (the holder)', async () => ((await get(ip, 80)) === 'on-n1' ? true : undefined), 15_000, 100);
    assert.deepEqual(new Set(await answers(ip, 80, 6)), new Set(['on-n1']));
    const n1Node = nodeTable(caPem, 'n1').table;
    assert.ok(tables().includes(n1Node), 'n1 wrote its node table');
    process.kill(agentPid(n1), 'SIGKILL');
    const t0 = Date.now();
    await waitFor('n2 rewrites the cluster table', async () => ((await get(ip, 80)) === 'on-n2' ? true : undefined), 10_000, 20);
    const took = Date.now() - t0;
    process.stdout.write(`nftables-proxy: cluster table rewritten ${took} ms after kill -9 of its holder\n`);
    assert.ok(took < 3_000, `takeover took ${took} ms`);
    assert.deepEqual(new Set(await answers(ip, 80, 6)), new Set(['on-n2']));
    await waitFor('the dead agent\'s node table is swept', async () => (tables().includes(n1Node) ? undefined : true), 10_000, 100);
  }));

  test('stale-table sweep: a table whose lock nobody holds is deleted, one whose lock is held is kept', () => server.guard(async () => {
    const staleHex = randomBytes(16).toString('hex');
    const liveHex = randomBytes(16).toString('hex');
    const stale = `trireme_${staleHex}`;
    const live = `trireme_node_${liveHex}`;
    ourTables.add(stale);
    ourTables.add(live);
    const liveLock = new AbstractSocketLock(`trireme-node-${liveHex}`, silentLogger);
    assert.equal(await liveLock.tryAcquire(), true);
    try {
      // The stale one captures an address of this run's range, as a kill -9'd cluster's would.
      for (const t of [stale, live]) nft(['-f', '-'], `table ip ${t} {\n  chain output {\n    type nat hook output priority -100; policy accept;\n    ip daddr 127.30.255.1 tcp dport 80 dnat to ${B1_IP}:9\n  }\n}\n`);
      await waitFor('the stale table is deleted', async () => (tables().includes(stale) ? undefined : true), 10_000, 100);
      await sleep(2_500); // two more sweeps
      assert.ok(tables().includes(live), 'a table whose owner lives is kept');
    } finally {
      await liveLock.release();
    }
    await waitFor('released, the other table is swept too', async () => (tables().includes(live) ? undefined : true), 10_000, 100);
  }));

  test('a graceful stop of the last agent deletes its cluster and node tables', () => server.guard(async () => {
    assert.ok(tables().includes(cluster));
    await n2.stop();
    const left = tables();
    assert.ok(!left.includes(cluster), 'cluster table deleted');
    assert.ok(!left.includes(nodeTable(caPem, 'n2').table), 'node table deleted');
    assert.notEqual(await get(webIp, 80), 'b3', 'the ClusterIP no longer answers');
  }));
});
