// The restore drill on a 3-server managed etcd cluster, through the CLI only (real servers,
// real etcd members, real etcdctl and kubectl) on 127.0.40.11-13, restored onto 127.0.40.21-23:
// - 200 objects of mixed kinds (test/ops/snapshot/drill.ts); `trireme snapshot save` through s2
//   snapshots s2's own member (the file is on s2's machine); `snapshot ls` through s1 lists it
//   from the records ConfigMap; `snapshot verify` restores it into a scratch etcd and compares
//   every object; writes after the snapshot;
// - the whole cluster lost: every server killed, every data dir wiped;
// - r1 on a new address and a new data dir: `--cluster-reset --restore-from FILE`, then r2 and r3
//   join it with the token that came back with the snapshot: through each, every object equals
//   the original (uid, resourceVersion, every field), the later writes are gone, the next write
//   is numbered past every revision seen before, a watch from an old revision is answered 410,
//   the old admin kubeconfig (same CA) works, and cluster status lists 3 voting members;
// - r2 and r3 lost for good, `--cluster-reset` on r1 snapshots the store first (pre-reset-…,
//   verified); then `--cluster-reset --restore-from FILE` onto r1's data dir, which holds a member:
//   its data moved aside, every object equal again, the next write numbered past every revision
//   the replaced member had handed out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterStatus } from '../../src/api/cluster-status.js';
import { deps, needs } from '../helpers/require-dep.js';
import { rawRequest, readCredentials, show } from '../e2e/harness.js';
import { HaServer, runCli, showCli, stopAllAndClean } from './servers.js';
import { assertSameObjects, dumpDrill, maxResourceVersion, writeDrillObjects, type Dumped } from '../ops/snapshot/drill.js';

describe('restore drill on a 3-server etcd cluster', { skip: needs(deps.etcd, deps.etcdctl, deps.kubectl), timeout: 900_000 }, () => {
  let root = '';
  let file = '';
  let original: Dumped[] = [];
  let maxSeen = 0;
  const all: HaServer[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-drill-etcd-'));
  });

  after(() => stopAllAndClean(all, root));

  it('snapshots one member of a 3-server cluster holding 200 objects', async () => {
    const [s1, s2, s3] = await Promise.all(['11', '12', '13'].map((n, i) => HaServer.create(root, `s${i + 1}`, `127.0.40.${n}`)));
    all.push(s1!, s2!, s3!);
    await s1!.start(['--cluster-init']);
    const token = (await readFile(join(s1!.dataDir, 'token'), 'utf8')).trim();
    await s2!.start(['--server', s1!.url, '--token', token]);
    await s3!.start(['--server', s1!.url, '--token', token]);
    await writeDrillObjects(s1!);
    original = await dumpDrill(s3!);
    assert.equal(original.length, 200);

    const save = await runCli(['snapshot', 'save', '--name', 'drill', '--kubeconfig', s2!.kubeconfig, '-o', 'json']);
    assert.equal(save.code, 0, showCli(save));
    const rec = JSON.parse(save.stdout) as { file: string; store: string; server: string; revision: number; objects: number };
    assert.equal(rec.store, 'etcd');
    assert.equal(rec.server, 's2');
    assert.equal(rec.file, join(s2!.dataDir, 'snapshots', 'drill.snapshot'));
    assert.ok(rec.objects >= 200 && rec.revision >= maxResourceVersion(original), JSON.stringify(rec));
    const ls = await runCli(['snapshot', 'ls', '--kubeconfig', s1!.kubeconfig]);
    assert.equal(ls.code, 0, showCli(ls));
    assert.match(ls.stdout, new RegExp(`^drill\\s+s2\\s+etcd\\s+${rec.revision}\\s+${rec.objects}\\s`, 'm'));

    file = join(root, 'drill.snapshot');
    await copyFile(rec.file, file);
    await copyFile(s1!.kubeconfig, join(root, 'old-kubeconfig.yaml'));
    for (let i = 0; i < 5; i++) {
      const r = await s3!.kubectl(['create', 'configmap', `late-${i}`, '-o', 'jsonpath={.metadata.resourceVersion}']);
      assert.equal(r.code, 0, show(r));
      maxSeen = Math.max(maxSeen, Number(r.stdout));
    }
  });

  it('verify restores the file into a scratch etcd and finds every object', async () => {
    const v = await runCli(['snapshot', 'verify', file, '--scratch-host', '127.0.40.11']);
    assert.equal(v.code, 0, showCli(v));
    assert.match(v.stdout, /: ok — etcd snapshot drill of s2, revision \d+, \d+ objects restored and compared/);
  });

  it('the whole cluster lost, one server restores on a new address and data dir, two join it: every object equal', async () => {
    for (const s of all) await s.kill();
    for (const s of all) await rm(s.dataDir, { recursive: true, force: true });
    const [r1, r2, r3] = await Promise.all(['21', '22', '23'].map((n, i) => HaServer.create(root, `r${i + 1}`, `127.0.40.${n}`)));
    all.push(r1!, r2!, r3!);
    const started = Date.now();
    await r1!.start(['--cluster-reset', '--restore-from', file]);
    console.error(`restore of a 3-server etcd snapshot (revision bump included): ${Date.now() - started} ms to ready`);
    const token = (await readFile(join(r1!.dataDir, 'token'), 'utf8')).trim();
    await r2!.start(['--server', r1!.url, '--token', token]);
    await r3!.start(['--server', r1!.url, '--token', token]);

    for (const r of [r1!, r2!, r3!]) assertSameObjects(await dumpDrill(r), original);
    const late = await r3!.kubectl(['get', 'configmap', 'late-0']);
    assert.equal(late.code, 1, 'a write after the snapshot is not in it');
    const w = await r2!.kubectl(['create', 'configmap', 'after-restore', '-o', 'jsonpath={.metadata.resourceVersion}']);
    assert.equal(w.code, 0, show(w));
    assert.ok(Number(w.stdout) > maxSeen, `new resourceVersion ${w.stdout} must pass ${maxSeen}`);
    const watch = await rawRequest(readCredentials(r3!.kubeconfig), `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${maxSeen}`, { timeoutMs: 10_000 });
    assert.ok(watch.status === 410 || /"code":410/.test(watch.text), `a watch from before the restore must be told to relist: ${watch.status} ${watch.text.slice(0, 300)}`);
    const viaOld = await rawRequest({ ...readCredentials(join(root, 'old-kubeconfig.yaml')), server: r3!.url }, '/api/v1/namespaces/drill-3/configmaps/cm-3');
    assert.equal(viaOld.status, 200, viaOld.text);

    const st = await runCli(['cluster', 'status', '--kubeconfig', r1!.kubeconfig, '-o', 'json']);
    assert.equal(st.code, 0, showCli(st));
    const status = JSON.parse(st.stdout) as ClusterStatus;
    assert.deepEqual(status.store.members.filter((m) => !m.isLearner).map((m) => m.name).sort(), ['r1', 'r2', 'r3']);
  });

  it('--cluster-reset snapshots the store first; a restore onto a data dir with a member moves it aside and numbers past it', async () => {
    const [r1, r2, r3] = all.slice(3);
    const before = await r1!.kubectl(['create', 'configmap', 'before-reset', '-o', 'jsonpath={.metadata.resourceVersion}']);
    assert.equal(before.code, 0, show(before));
    // Reset keeps what r1's member applied: wait until it has the acknowledged write.
    await r1!.waitApplied(Number(before.stdout));
    for (const r of [r2!, r3!, r1!]) await r.kill();
    await r1!.start(['--cluster-reset']);
    const pre = (await readdir(join(r1!.dataDir, 'snapshots'))).filter((f) => f.startsWith('pre-reset-r1-'));
    assert.equal(pre.length, 1, `pre-reset snapshot: ${pre.join(', ')}`);
    const v = await runCli(['snapshot', 'verify', join(r1!.dataDir, 'snapshots', pre[0]!), '--scratch-host', '127.0.40.21', '-o', 'json']);
    assert.equal(v.code, 0, showCli(v));
    assert.ok((JSON.parse(v.stdout) as { manifest: { revision: number } }).manifest.revision >= Number(before.stdout));
    const kept = await r1!.kubectl(['get', 'configmap', 'before-reset']);
    assert.equal(kept.code, 0, show(kept));
    const last = await r1!.kubectl(['create', 'configmap', 'after-reset', '-o', 'jsonpath={.metadata.resourceVersion}']);
    assert.equal(last.code, 0, show(last));
    await r1!.kill();

    await r1!.start(['--cluster-reset', '--restore-from', file]);
    const aside = (await readdir(join(r1!.dataDir, 'etcd'))).filter((f) => f.startsWith('data.before-restore-'));
    assert.equal(aside.length, 1, `moved aside: ${aside.join(', ')}`);
    assertSameObjects(await dumpDrill(r1!), original);
    const gone = await r1!.kubectl(['get', 'configmap', 'after-reset']);
    assert.equal(gone.code, 1, 'a write after the snapshot is not in it');
    const w = await r1!.kubectl(['create', 'configmap', 'after-second-restore', '-o', 'jsonpath={.metadata.resourceVersion}']);
    assert.equal(w.code, 0, show(w));
    assert.ok(Number(w.stdout) > Number(last.stdout), `new resourceVersion ${w.stdout} must pass the replaced member's ${last.stdout}`);
    await r1!.stop();
  });
});
