// Five servers on a managed etcd work the way three do, through the CLI only (real processes,
// real etcd children, real kubectl), on 127.0.8.21-25: `--cluster-init` on s1, four joins (etcd
// takes one learner at a time: each join waits for its promotion before the next starts);
// `trireme cluster status` lists five voting members; with two of them killed (kill -9, server
// and member) the other three keep writing, and both rejoin with no flags.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterStatus } from '../../src/api/cluster-status.js';
import { deps, needs } from '../helpers/require-dep.js';
import { killAll, show, waitFor } from '../e2e/harness.js';
import { HaServer, runCli } from './servers.js';

describe('five servers on a managed etcd', { skip: needs(deps.etcd, deps.kubectl), timeout: 900_000 }, () => {
  let root = '';
  const servers: HaServer[] = [];

  async function status(via: HaServer): Promise<ClusterStatus> {
    const r = await runCli(['cluster', 'status', '--kubeconfig', via.kubeconfig, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ClusterStatus;
  }

  async function write(s: HaServer, name: string): Promise<void> {
    await waitFor(`create configmap ${name} through ${s.name}`, async () => {
      const r = await s.kubectl(['create', 'configmap', name, '--from-literal', `by=${s.name}`]);
      if (r.code === 0 || /AlreadyExists/.test(r.stderr)) return true;
      throw new Error(show(r));
    }, 60_000, 500);
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-ha5-'));
    for (let i = 1; i <= 5; i++) servers.push(await HaServer.create(root, `s${i}`, `127.0.8.${20 + i}`));
    const first = servers[0]!;
    await first.start(['--cluster-init']);
    const token = (await readFile(join(first.dataDir, 'token'), 'utf8')).trim();
    for (const s of servers.slice(1)) await s.start(['--server', first.url, '--token', token]);
  });

  after(async () => {
    try {
      for (const s of servers) if (s.running()) await s.stop().catch(() => undefined);
    } finally {
      killAll();
      if (process.env.E2E_KEEP === undefined) await rm(root, { recursive: true, force: true });
      else console.error(`kept ${root}`);
    }
  });

  it('five voting members; two killed, three keep writing; both rejoin with no flags', async () => {
    const st = await status(servers[2]!);
    assert.deepEqual(st.store.members.map((m) => m.name).sort(), ['s1', 's2', 's3', 's4', 's5']);
    assert.equal(st.store.members.filter((m) => m.isLearner).length, 0, JSON.stringify(st.store.members));
    assert.equal(st.store.members.filter((m) => m.isLeader).length, 1);

    const [s1, s2, s3, s4, s5] = servers as [HaServer, HaServer, HaServer, HaServer, HaServer];
    await s4.kill();
    await s5.kill();
    await write(s1, 'with-two-dead-1');
    await write(s3, 'with-two-dead-2');
    const r = await s2.kubectl(['get', 'configmap', 'with-two-dead-1', 'with-two-dead-2', '-o', 'name']);
    assert.equal(r.code, 0, show(r));

    await s4.start();
    await s5.start();
    for (const s of [s4, s5]) {
      const got = await s.kubectl(['get', 'configmap', 'with-two-dead-2', '-o', 'jsonpath={.data.by}']);
      assert.equal(got.stdout, 's3', show(got));
    }
    await waitFor('five healthy voting members', async () => {
      const now = await status(s1).catch(() => undefined);
      return now?.store.members.filter((m) => m.healthy && !m.isLearner).length === 5 || undefined;
    }, 120_000, 1000);
  });
});
