// Live API servers in `default/kubernetes` through per-server endpoint leases, on one real etcd:
// three in-process servers are listed (one subset per port: each bound its own); a graceful stop
// removes its server at once and for good; a real `trireme apiserver` process killed with
// SIGKILL drops out within a few seconds and is listed again when it comes back. Servers bind
// 127.0.4.x.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';
import { endpointLeaseName, listedServers } from '../../src/apiserver/endpoints-plan.js';
import { ChildTracker } from '../../src/launch/children.js';
import { launchCli, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { pollUntil } from '../../src/util/poll.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';

const EP = resource('', 'endpoints');
type Ep = KubeObject & Pick<Endpoints, 'subsets'>;
const LEASES = resource('coordination.k8s.io', 'leases');
/** The CLI entry compiled next to this test (dist/ or a private --outDir alike). */
const ENTRY = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const sorted = (s: Iterable<string>) => [...s].sort();
const serverOf = (t: TestApiServer) => `${new URL(t.server.url).hostname}:${t.server.port}`;

describe('default/kubernetes Endpoints from per-server leases', { skip: needs(deps.etcd), timeout: 180_000 }, () => {
  let root = '';
  let etcd: EtcdProcess | undefined;
  let etcdSpec: { endpoints: string[]; prefix: string } | undefined;
  const servers: TestApiServer[] = [];
  const tracker = new ChildTracker();
  tracker.installExitHooks();

  async function listed(via: TestApiServer): Promise<string[]> {
    const ep = await via.client.get<Ep>(EP, 'default', 'kubernetes');
    return sorted(listedServers(ep.subsets));
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-epl-'));
    etcd = await EtcdProcess.onFreePorts(join(root, 'etcd'), ['--experimental-watch-progress-notify-interval=500ms']);
    await etcd.start();
    etcdSpec = { endpoints: [etcd.endpoint], prefix: `/epl-${randomBytes(4).toString('hex')}` };
    const dataDir = join(root, 'data');
    for (const ip of ['127.0.4.1', '127.0.4.2', '127.0.4.3']) servers.push(await startTestApiServer(ip, { etcd: etcdSpec, dataDir }));
  });

  after(async () => {
    tracker.killAll();
    try {
      for (const s of servers.splice(0)) await s.close();
    } finally {
      await etcd?.kill();
      if (root) await rm(root, { recursive: true, force: true });
    }
  });

  test('three servers are listed; a graceful stop removes one at once; a killed process drops out and comes back', async (t) => {
    const [a, b, c] = servers;
    assert.ok(a && b && c && etcdSpec);
    const three = sorted(servers.map(serverOf));
    await pollUntil('all three servers in the Endpoints', async () => jsonSame(await listed(a), three), { timeoutMs: 15_000 });
    const ep = await b.client.get<Ep>(EP, 'default', 'kubernetes');
    assert.equal(ep.subsets?.length, 3, 'three ports (each server bound its own): one subset per port');
    for (const s of ep.subsets ?? []) assert.equal(s.ports?.[0]?.name, 'https');

    // Graceful stop: gone when stop() returns, its lease deleted, and no peer writes it back.
    servers.splice(servers.indexOf(c), 1);
    await c.close();
    const two = sorted([a, b].map(serverOf));
    assert.deepEqual(await listed(a), two, 'the stopped server is gone at once');
    const cLease = endpointLeaseName({ ip: '127.0.4.3', port: c.server.port });
    await assert.rejects(a.client.get(LEASES, 'kube-system', cLease), (e) => isTriremeError(e, 'NotFound'));
    await new Promise((r) => setTimeout(r, 2_500)); // a few renewals of the others
    assert.deepEqual(await listed(b), two, 'no peer wrote the stopped server back');

    // A real process, killed without any cleanup. It holds the cluster's CA, as every server of
    // one cluster does (the store's Secrets keyring is sealed with the CA key).
    const dataDir = join(root, 'proc');
    await mkdir(join(dataDir, 'tls'), { recursive: true });
    for (const f of ['ca.crt', 'ca.key']) await copyFile(join(root, 'data', 'tls', f), join(dataDir, 'tls', f));
    const start = (port: number) => launchCli({
      entry: ENTRY, dataDir, logFile: join(root, 'proc.log'), tracker,
      args: ['apiserver', '--data-dir', dataDir, '--bind-address', '127.0.4.4', '--https-port', String(port),
        '--etcd-endpoints', etcdSpec!.endpoints.join(','), '--etcd-prefix', etcdSpec!.prefix, '--log-format', 'json'],
    });
    let proc: LaunchedProcess = await start(0);
    const procServer = `127.0.4.4:${proc.ready.apiServer?.port}`;
    await pollUntil('the process in the Endpoints', async () => (await listed(a)).includes(procServer), { timeoutMs: 15_000 });
    proc.kill();
    await proc.exited;
    const killedAt = Date.now();
    await pollUntil('the killed process to drop out', async () => jsonSame(await listed(a), two), { timeoutMs: 20_000, everyMs: 100 });
    t.diagnostic(`killed server dropped out of the Endpoints ${Date.now() - killedAt} ms after SIGKILL`);
    assert.deepEqual(await listed(b), two);

    // It comes back on the same address and port: listed again.
    proc = await start(proc.ready.apiServer?.port ?? 0);
    await pollUntil('the restarted process back in the Endpoints', async () => jsonSame(await listed(b), sorted([...two, procServer])), { timeoutMs: 15_000 });
    await proc.stop();
    await pollUntil('the gracefully stopped process gone', async () => jsonSame(await listed(a), two), { timeoutMs: 5_000 });
  });
});

function jsonSame(x: string[], y: string[]): boolean {
  return JSON.stringify(x) === JSON.stringify(y);
}
