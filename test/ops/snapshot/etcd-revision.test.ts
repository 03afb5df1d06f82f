// The etcd side of a restore's revision jump, on real etcd and etcdctl (127.0.40.31): a
// snapshot of a member that never compacted (made to record a compaction by compactedCopy) and
// one that did, each restored by etcdctl, raised with markEtcdCompacted before etcd opens it,
// then started: the member stands at the target, every key keeps its value and revisions, the
// next write is target + 1, reads and watches from before the target fail as compacted, and
// etcdBackendRevision reads at least the target back from the killed member's file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { deps, needs } from '../../helpers/require-dep.js';
import {
  compactedCopy, etcdBackendRevision, etcdClient, hasCompactRevision, markEtcdCompacted, restoreEtcdDataDir, runScratchEtcd, snapshotToFile,
} from '../../../src/ops/snapshot/etcd-file.js';
import { freePorts } from '../../../src/util/free-port.js';

const HOST = '127.0.40.31';

async function member(dir: string): Promise<{ client: Etcd3; peerUrl: string; endpoint: string; stop(): Promise<void> }> {
  const [c, p] = await freePorts(HOST, 2);
  const endpoint = `http://${HOST}:${c}`;
  const peerUrl = `http://${HOST}:${p}`;
  const etcd = await runScratchEtcd(dir, 'm', endpoint, peerUrl);
  const client = etcdClient(endpoint);
  return { client, peerUrl, endpoint, stop: async () => { client.close(); await etcd.stop(); } };
}

async function restoreAndStart(file: string, dir: string): Promise<{ client: Etcd3; stop(): Promise<void> }> {
  const [c, p] = await freePorts(HOST, 2);
  const endpoint = `http://${HOST}:${c}`;
  const peerUrl = `http://${HOST}:${p}`;
  await restoreEtcdDataDir(file, { dataDir: dir, name: 'r', peerUrl });
  await markEtcdCompacted(join(dir, 'member', 'snap', 'db'), 5_000_000);
  const etcd = await runScratchEtcd(dir, 'r', endpoint, peerUrl);
  const client = etcdClient(endpoint);
  return { client, stop: async () => { client.close(); await etcd.stop(); } };
}

describe('etcd revision jump of a restore', { skip: needs(deps.etcd, deps.etcdctl), timeout: 120_000 }, () => {
  let root = '';
  const stops: (() => Promise<void>)[] = [];
  before(async () => { root = await mkdtemp(join(tmpdir(), 'trireme-etcd-rev-')); });
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  for (const compacted of [false, true]) {
    it(compacted ? 'a snapshot of a member that compacted' : 'a snapshot of a member that never compacted', async () => {
      const dir = join(root, compacted ? 'c' : 'n');
      const src = await member(join(dir, 'src'));
      stops.push(src.stop);
      for (let i = 0; i < 20; i++) await src.client.put(`/k/${i % 5}`).value(`v${i}`);
      const head = Number((await src.client.maintenance.status()).header.revision);
      if (compacted) await src.client.kv.compact({ revision: String(head - 3), physical: true });
      const before = await src.client.getAll().prefix('/k/').exec();
      const file = join(dir, 'snap.db');
      await snapshotToFile(src.client, file);
      await src.stop();

      assert.equal(await hasCompactRevision(file), compacted);
      let restoreFrom = file;
      if (!compacted) {
        await assert.rejects(markEtcdCompacted(file, 10), /records no etcd compaction/);
        restoreFrom = join(dir, 'compacted.db');
        await compactedCopy(file, restoreFrom, join(dir, 'scratch'), HOST);
        assert.equal(await hasCompactRevision(restoreFrom), true);
      }
      const r = await restoreAndStart(restoreFrom, join(dir, 'restored'));
      stops.push(r.stop);
      assert.equal(Number((await r.client.maintenance.status()).header.revision), 5_000_000);
      const after = await r.client.getAll().prefix('/k/').exec();
      assert.deepEqual(after.kvs.map((kv) => [kv.key.toString(), kv.value.toString(), kv.mod_revision, kv.create_revision, kv.version]),
        before.kvs.map((kv) => [kv.key.toString(), kv.value.toString(), kv.mod_revision, kv.create_revision, kv.version]));
      const put = await r.client.put('/k/new').value('x').exec();
      assert.equal(put.header.revision, '5000001');
      await assert.rejects(r.client.kv.range({ key: Buffer.from('/k/0'), revision: String(head) }), /compacted/);
      await assert.rejects(r.client.kv.range({ key: Buffer.from('/k/0'), revision: '4999999' }), /compacted/);
      const at = await r.client.kv.range({ key: Buffer.from('/k/0'), revision: '5000000' });
      assert.equal(at.kvs[0]?.value.toString(), before.kvs.find((kv) => kv.key.toString() === '/k/0')?.value.toString());
      const canceled = await new Promise<string>((resolve) => {
        void r.client.watch().key('/k/0').startRevision(String(head)).create().then((w) => {
          w.on('error', (e: Error) => resolve(`error ${e.message}`));
          w.on('end', () => resolve('end'));
          w.on('data', () => resolve('data'));
          setTimeout(() => resolve('nothing'), 5_000);
        }, (e: Error) => resolve(`error ${e.message}`));
      });
      assert.notEqual(canceled, 'data', 'a watch from before the jump must not deliver events');
      assert.notEqual(canceled, 'nothing', 'a watch from before the jump must be ended');
      await r.stop(); // SIGKILL: the backend may lack the last put (etcd commits it in batches; its WAL has it)
      assert.ok(await etcdBackendRevision(join(dir, 'restored', 'member', 'snap', 'db')) >= 5_000_000);
    });
  }
});
