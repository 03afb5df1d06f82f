// The 3-member etcd test cluster itself (test/helpers/etcd-cluster.ts): real members on
// 127.0.7.1-3 elect a leader, survive the leader's kill, take a killed member back, and leave
// no process behind after cleanup. Under CI=true a missing etcd fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil } from '../../src/util/poll.js';
import { EtcdCluster } from './etcd-cluster.js';
import { processGone } from './process.js';
import { deps, needs } from './require-dep.js';

test('a 3-member etcd cluster: leader, leader kill, restart, cleanup', { skip: needs(deps.etcd), timeout: 90_000 }, async () => {
  const cluster = await EtcdCluster.start({ hosts: ['127.0.7.1', '127.0.7.2', '127.0.7.3'] });
  const pids: number[] = [];
  try {
    assert.deepEqual(cluster.endpoints.map((e) => new URL(e).hostname), ['127.0.7.1', '127.0.7.2', '127.0.7.3']);
    for (const m of cluster.members) pids.push(m.pid!);
    const first = await cluster.waitForLeader();
    await cluster.kill(first);
    const second = await cluster.waitForLeader();
    assert.notEqual(second, first);
    await cluster.start(first);
    pids.push(cluster.member(first).pid!);
    assert.deepEqual(cluster.running(), [0, 1, 2]);
    assert.notEqual(await cluster.waitForLeader(), undefined);
  } finally {
    await cluster.cleanup();
  }
  await pollUntil('every member gone', () => pids.every(processGone), { timeoutMs: 5_000 });
});
