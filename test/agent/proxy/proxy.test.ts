// The Service proxy runtime against a real in-process API server (ClusterIPs from
// 127.23.128.0/17): two proxies in this process stand for two agents of one machine, with the
// machine lock (one cluster key) and without it (every listener contends by its own bind).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../src/api/object.js';
import { parseServiceRange } from '../../../src/api/service-range.js';
import { startApiServer, type RunningApiServer } from '../../../src/apiserver/server.js';
import { ApiClient } from '../../../src/client/api-client.js';
import { loadKubeconfig } from '../../../src/client/config.js';
import { resource } from '../../../src/client/resources.js';
import { ServiceProxy } from '../../../src/agent/proxy/proxy.js';
import type { NftRunner } from '../../../src/agent/proxy/nft.js';
import { clusterTable } from '../../../src/agent/proxy/nft-ruleset.js';
import { AbstractSocketLock } from '../../../src/agent/proxy/machine-lock.js';
import { FakeClock } from '../../../src/util/clock.js';
import { openStore } from '../../../src/storage/open.js';
import { silentLogger } from '../../../src/util/log.js';
import { pollUntil } from '../../../src/util/poll.js';

const SERVICES = resource('', 'services');
const ENDPOINTS = resource('', 'endpoints');
const API_IP = '127.0.23.100';

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect({ host, port });
    let out = '';
    c.on('data', (d: Buffer) => (out += d.toString()));
    c.on('end', () => resolve(out));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('service proxy runtime (in-process API)', { timeout: 60_000 }, () => {
  let api: RunningApiServer;
  let client: ApiClient;
  let dataDir: string;
  let backend: net.Server;
  let backendPort: number;
  const proxies: ServiceProxy[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'trireme-proxy-'));
    api = await startApiServer({
      dataDir, store: openStore({ backend: 'sqlite', dataDir }), bindAddress: API_IP, port: 0, advertiseAddress: API_IP, tlsSans: [], logger: silentLogger,
      serviceRanges: { serviceRange: parseServiceRange('127.23.128.0/17'), nodePortRange: { min: 32350, max: 32399 } },
    });
    client = new ApiClient(loadKubeconfig(api.kubeconfigPath));
    backend = net.createServer((c) => c.end('hello'));
    await new Promise<void>((r) => backend.listen(0, '127.0.23.103', r));
    backendPort = (backend.address() as net.AddressInfo).port;
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    backend.close();
    client.close();
    await api.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  function proxy(nodeName: string, nodeIp: string, lock: { clusterKey: string } | false): ServiceProxy {
    const p = new ServiceProxy({ client, nodeName, nodeIp, logger: silentLogger, bindRetryMs: 100, mode: 'userspace', ...(lock ? { clusterKey: lock.clusterKey } : { lock: false }) });
    proxies.push(p);
    void p.start();
    return p;
  }

  async function service(name: string, type: 'ClusterIP' | 'NodePort'): Promise<{ ip: string; nodePort: number | undefined }> {
    const svc = await client.create<Service & KubeObject>(SERVICES, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type, ports: [{ name: 'p', port: 80 }] } });
    await client.create<Endpoints & KubeObject>(ENDPOINTS, 'default', {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets: [{ addresses: [{ ip: '127.0.23.103' }], ports: [{ name: 'p', port: backendPort }] }],
    });
    return { ip: svc.spec?.clusterIP ?? '', nodePort: svc.spec?.ports?.[0]?.nodePort };
  }

  const boundKeys = (p: ServiceProxy): string[] => p.status().filter((s) => s.bound).map((s) => s.key);

  it('stopped while nft is being probed: no kernel data plane starts, no timer is left', { skip: process.getuid?.() === 0 ? false : 'needs root (the nft probe)' }, async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const scripts: string[] = [];
    const nft: NftRunner = { apply: async (s) => { scripts.push(s); await gate; }, listTables: () => Promise.resolve([]) };
    const clock = new FakeClock();
    const p = new ServiceProxy({ client, nodeName: 'race', nodeIp: '127.0.23.106', logger: silentLogger, clock, mode: 'nftables', nft, clusterKey: randomUUID() });
    const started = p.start();
    await pollUntil('the probe runs', async () => (scripts.length > 0 ? true : undefined), { timeoutMs: 5_000, everyMs: 10 });
    await p.stop();
    release();
    await started;
    assert.equal(p.dataPlane(), 'userspace', 'a proxy stopped before it chose serves nothing');
    assert.equal(clock.pending(), 0, 'no liveness or retry timer outlives stop()');
    assert.equal(scripts.length, 2, 'only the probe ran nft (add and delete of its scratch table)');
  });

  it('a userspace holder sweeps a stale kernel table of another cluster, and keeps one whose owner lives', { skip: process.getuid?.() === 0 ? false : 'needs root (the nft probe)' }, async () => {
    const stale = clusterTable(randomUUID()).table;
    const live = clusterTable(randomUUID());
    const owner = new AbstractSocketLock(live.lock, silentLogger);
    assert.ok(await owner.tryAcquire(), 'this test holds the live table\'s lock');
    const scripts: string[] = [];
    const nft: NftRunner = { apply: (sc) => { scripts.push(sc); return Promise.resolve(); }, listTables: () => Promise.resolve([stale, live.table, 'someone_else']) };
    const p = new ServiceProxy({ client, nodeName: 'sweeper', nodeIp: '127.0.23.107', logger: silentLogger, bindRetryMs: 100, sweepEveryMs: 200, mode: 'userspace', nft, clusterKey: randomUUID() });
    void p.start();
    try {
      await pollUntil('the stale table deleted', () => scripts.some((sc) => sc.includes(`delete table ip ${stale}`)) || undefined, { timeoutMs: 10_000, everyMs: 50 });
      assert.equal(p.dataPlane(), 'userspace');
      assert.ok(!scripts.some((sc) => sc.includes(live.table)), 'a table whose owner holds its lock is kept');
      assert.ok(!scripts.some((sc) => sc.includes('someone_else')), 'a table not named like ours is not touched');
    } finally {
      await p.stop(); // it holds a lock of its own cluster: it would serve the next tests' ClusterIPs
      await owner.release();
    }
  });

  it('without a machine lock: each ClusterIP listener is bound by one proxy; stopped, the other takes it', async () => {
    const a = proxy('a', '127.0.23.101', false);
    const b = proxy('b', '127.0.23.102', false);
    const { ip } = await service('solo', 'ClusterIP');
    const key = `TCP/${ip}:80`;
    await pollUntil('solo served', async () => ((await get(ip, 80)) === 'hello' ? true : undefined), { timeoutMs: 10_000, everyMs: 50 });
    const holders = [a, b].filter((p) => boundKeys(p).includes(key));
    assert.equal(holders.length, 1, 'exactly one proxy holds the listener');
    const other = holders[0] === a ? b : a;
    assert.deepEqual(other.status().find((s) => s.key === key)?.bound, false, 'the other one stands by');
    await holders[0]!.stop();
    await pollUntil('the other proxy binds', async () => (boundKeys(other).includes(key) ? true : undefined), { timeoutMs: 5_000, everyMs: 20 });
    assert.equal(await get(ip, 80), 'hello');
    await other.stop();
    assert.equal(await get(ip, 80), 'ECONNREFUSED', 'a stopped proxy lets go of everything');
  });

  it('with a machine lock: one proxy binds every ClusterIP listener, both bind their own NodePorts; delete closes', async () => {
    const clusterKey = randomUUID();
    const c = proxy('c', '127.0.23.104', { clusterKey });
    await pollUntil('c holds the lock', async () => (boundKeys(c).length > 0 ? true : undefined), { timeoutMs: 10_000, everyMs: 50 });
    const d = proxy('d', '127.0.23.105', { clusterKey });
    const { ip, nodePort } = await service('np', 'NodePort');
    assert.ok(nodePort !== undefined && nodePort >= 32350 && nodePort <= 32399);
    await pollUntil('np served everywhere', async () => {
      const r = await Promise.all([get(ip, 80), get('127.0.23.104', nodePort), get('127.0.23.105', nodePort)]);
      return r.every((x) => x === 'hello') ? true : undefined;
    }, { timeoutMs: 10_000, everyMs: 50 });
    const clusterKeys = c.status().filter((s) => s.scope === 'cluster').map((s) => s.key);
    assert.ok(clusterKeys.includes(`TCP/${ip}:80`));
    assert.deepEqual(boundKeys(c).filter((k) => clusterKeys.includes(k)), clusterKeys, 'the holder binds every ClusterIP listener');
    assert.deepEqual(boundKeys(d), [`TCP/127.0.23.105:${nodePort}`], 'the other binds only its NodePort');

    await client.delete(SERVICES, 'default', 'np');
    await pollUntil('np closed', async () => (c.status().some((s) => s.service === 'default/np') ? undefined : true), { timeoutMs: 5_000, everyMs: 20 });
    assert.equal(await get(ip, 80), 'ECONNREFUSED');
    await pollUntil('np NodePort closed on d', async () => ((await get('127.0.23.105', nodePort)) === 'ECONNREFUSED' ? true : undefined), { timeoutMs: 5_000, everyMs: 20 });
  });
});
