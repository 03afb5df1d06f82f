import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { loadMemberConfig } from '../../src/etcd/paths.js';
import { openEtcdAdmin } from '../../src/etcd/membership.js';
import { EtcdStore } from '../../src/storage/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';
import { growCluster, Harness } from './harness.js';

async function argv(pid: number | undefined): Promise<string[]> {
  assert.ok(pid !== undefined);
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
}

describe('cluster reset', { skip: needs(deps.etcd), timeout: 240_000 }, () => {
  const h = new Harness();
  before(() => h.init());
  after(() => h.cleanup());

  test('three members, two lost for good: forceNewCluster on the survivor makes a one-member cluster that keeps the data, takes writes, and restarts normally', async () => {
    const ms = [await h.member('m1', '127.0.1.5'), await h.member('m2', '127.0.1.6'), await h.member('m3', '127.0.1.7')];
    const { running, admin } = await growCluster(h, ms);
    admin.close();
    const [e1, e2, e3] = running;
    const m1 = ms[0]!;
    const store = EtcdStore.open({ endpoints: ms.map((m) => m.clientUrl), tls: m1.tls.client });
    try {
      await store.create('/survives', 'reset');
    } finally {
      await store.close();
    }
    await h.stop(e2!);
    await h.stop(e3!);
    await h.stop(e1!);

    const reset = await h.start(m1, undefined, { forceNewCluster: true });
    assert.ok((await argv(reset.pid())).includes('--force-new-cluster'));
    await reset.ready();
    const cfg = await loadMemberConfig(m1.dataDir);
    assert.ok(cfg?.resetAt !== undefined);
    assert.equal(cfg.initialCluster, `m1=${m1.peerUrl}`);
    const check = async (): Promise<void> => {
      const a = openEtcdAdmin({ endpoints: [m1.clientUrl], tls: m1.tls.client });
      try {
        const members = await a.listMembers();
        assert.deepEqual(members.map((m) => m.name), ['m1']);
        assert.equal((await a.memberStatuses())[0]?.isLeader, true);
      } finally {
        a.close();
      }
      const s = EtcdStore.open({ endpoints: [m1.clientUrl], tls: m1.tls.client });
      try {
        assert.equal((await s.get('/survives'))?.value, 'reset');
        await s.create(`/after-${Date.now()}`, 'write');
      } finally {
        await s.close();
      }
    };
    await check();
    await h.stop(reset);

    // The next start is an ordinary one: no flag, same one-member cluster.
    const normal = await h.start(m1, undefined);
    assert.ok(!(await argv(normal.pid())).includes('--force-new-cluster'));
    await normal.ready();
    await check();
    await h.stop(normal);
  });
});
