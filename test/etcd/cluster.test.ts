import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { isTriremeError } from '../../src/errors.js';
import { etcdPaths } from '../../src/etcd/paths.js';
import { openEtcdAdmin } from '../../src/etcd/membership.js';
import { EtcdStore } from '../../src/storage/etcd.js';
import { pollUntil } from '../../src/util/poll.js';
import { deps, needs } from '../helpers/require-dep.js';
import { firstConfig, Harness } from './harness.js';

describe('managed etcd cluster membership', { skip: needs(deps.etcd), timeout: 240_000 }, () => {
  const h = new Harness();
  before(() => h.init());
  after(() => h.cleanup());

  test('grow to three (learner, promote), statuses, the removal guard, and a removed member that starts again fails with MemberRemoved', async () => {
    const m1 = await h.member('m1', '127.0.1.1');
    const m2 = await h.member('m2', '127.0.1.2');
    const m3 = await h.member('m3', '127.0.1.3');
    const e1 = await h.start(m1, firstConfig(m1));
    await e1.ready();
    const admin = openEtcdAdmin({ endpoints: [m1.clientUrl], tls: m1.tls.client });
    try {
      // Member 2 joins as a learner.
      const add2 = await admin.addLearner('m2', m2.peerUrl);
      assert.deepEqual(add2.initialCluster.split(',').sort(), [`m1=${m1.peerUrl}`, `m2=${m2.peerUrl}`]);
      // A retried join of the same server gets the same learner back.
      assert.equal((await admin.addLearner('m2', m2.peerUrl)).memberId, add2.memberId);
      // etcd 3.4: one learner at a time.
      await assert.rejects(admin.addLearner('m3', m3.peerUrl), (e) => isTriremeError(e, 'Conflict') && /one learner at a time/.test(e.message));
      const e2 = await h.start(m2, { name: 'm2', peerUrl: m2.peerUrl, clientUrl: m2.clientUrl, initialCluster: add2.initialCluster, initialClusterState: 'existing' });
      await e2.ready();
      const asLearner = (await admin.memberStatuses()).find((s) => s.name === 'm2');
      assert.equal(asLearner?.isLearner, true);
      await admin.promoteWhenCaughtUp(add2.memberId, { timeoutMs: 30_000 });

      const add3 = await admin.addLearner('m3', m3.peerUrl);
      const e3 = await h.start(m3, { name: 'm3', peerUrl: m3.peerUrl, clientUrl: m3.clientUrl, initialCluster: add3.initialCluster, initialClusterState: 'existing' });
      await e3.ready();
      await admin.promoteWhenCaughtUp(add3.memberId, { timeoutMs: 30_000 });

      const statuses = await pollUntil('three healthy voters', async () => {
        const s = await admin.memberStatuses();
        return s.length === 3 && s.every((x) => x.healthy && !x.isLearner) ? s : undefined;
      }, { timeoutMs: 20_000 });
      assert.deepEqual(statuses.map((s) => s.name).sort(), ['m1', 'm2', 'm3']);
      assert.equal(statuses.filter((s) => s.isLeader).length, 1);
      for (const s of statuses) assert.ok(s.raftIndex !== undefined && s.raftIndex > 0 && s.lag !== undefined);

      const store = EtcdStore.open({ endpoints: [m1.clientUrl, m2.clientUrl, m3.clientUrl], tls: m1.tls.client });
      try {
        await store.create('/kept', 'yes');
        // Member 3 dies for good.
        await h.stop(e3);
        await pollUntil('m3 unhealthy', async () => (await admin.memberStatuses()).find((s) => s.name === 'm3')?.healthy === false, { timeoutMs: 20_000 });
        // Removing a healthy member while another is dead would leave 1 healthy of 2: refused.
        await assert.rejects(admin.removeMember('m1'), (e) => isTriremeError(e, 'Conflict') && /not a majority/.test(e.message));
        await assert.rejects(admin.removeMember('nosuch'), (e) => isTriremeError(e, 'NotFound'));
        assert.equal((await admin.listMembers()).length, 3);
        // Removing the dead one is allowed.
        const removed = await admin.removeMember('m3');
        assert.equal(removed.name, 'm3');
        assert.deepEqual((await admin.listMembers()).map((m) => m.name).sort(), ['m1', 'm2']);
        assert.equal((await store.get('/kept'))?.value, 'yes');
      } finally {
        await store.close();
      }

      // The removed member started again from its own data learns that it was removed.
      const again = await h.start(m3, undefined);
      await assert.rejects(again.ready({ timeoutMs: 60_000 }), (e) => isTriremeError(e, 'MemberRemoved') && /delete .*etcd and start the server with --server URL --token T/.test(e.message));
      assert.ok(isTriremeError(await again.done, 'MemberRemoved'));
      assert.equal(again.pid(), undefined);
      const log = await readFile(etcdPaths(m3.dataDir).log, 'utf8');
      assert.match(log, /the member has been permanently removed from the cluster/);

      // A running member that is removed stops by itself, and supervision ends with MemberRemoved.
      assert.equal((await admin.removeMember('m2')).name, 'm2');
      assert.ok(isTriremeError(await e2.done, 'MemberRemoved'));
      assert.equal(e2.pid(), undefined);
      assert.deepEqual((await admin.listMembers()).map((m) => m.name), ['m1']);
    } finally {
      admin.close();
    }
  });
});
