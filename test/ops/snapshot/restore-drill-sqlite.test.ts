// The restore drill on the SQLite store, through the CLI only (real server processes, real
// kubectl) on 127.0.40.1-2:
// - a server with 200 objects of mixed kinds (test/ops/snapshot/drill.ts) and a pod bound to a
//   node that will not come back; `trireme snapshot save`, `ls`, the ConfigMap record, the
//   metrics; writes after the snapshot; then the server is killed and its data dir wiped;
// - `--cluster-reset --restore-from FILE` on the same address and data dir path: every object
//   equal (uid, resourceVersion, every field), the later writes gone, the next write numbered
//   past every revision seen before, a watch from an old revision answered 410 (relist);
// - the same file onto a new address and a new data dir, with a local agent: the old admin
//   kubeconfig (same CA from the snapshot) works against the new address, every object equal,
//   the node that no longer exists goes Unknown and its pod is removed, as on any node loss;
// - a restore onto a data dir holding a store snapshots that store first (pre-reset-…);
// - `trireme snapshot verify` passes on the file and refuses a corrupted copy by its checksum
//   (one line, exit 1), and a server refuses to restore from it, changing nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deps, needs } from '../../helpers/require-dep.js';
import { rawRequest, readCredentials, show, waitFor } from '../../e2e/harness.js';
import { HaServer, runCli, showCli, stopAllAndClean } from '../../ha/servers.js';
import { assertSameObjects, dumpDrill, maxResourceVersion, writeDrillObjects, yamlStream, type Dumped } from './drill.js';

const LIFECYCLE = ['--node-monitor-grace-period', '3s', '--default-unreachable-toleration-seconds', '1', '--default-not-ready-toleration-seconds', '1', '--snapshot-retention', '3'];

describe('restore drill on SQLite', { skip: needs(deps.kubectl), timeout: 600_000 }, () => {
  let root = '';
  let file = '';
  let original: Dumped[] = [];
  let maxSeen = 0;
  const all: HaServer[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-drill-sqlite-'));
  });

  after(() => stopAllAndClean(all, root));

  it('snapshots a server with 200 objects and records it', async () => {
    const s1 = await HaServer.create(root, 's1', '127.0.40.1');
    all.push(s1);
    await s1.start(LIFECYCLE);
    await writeDrillObjects(s1);
    // A pod bound to a node that the restored cluster will not have.
    const bound = join(s1.scratch, 'bound.yaml');
    await writeFile(bound, yamlStream([
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'lost-node' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound', namespace: 'default' }, spec: { nodeName: 'lost-node', terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } },
    ]));
    const c = await s1.kubectl(['create', '--validate=false', '-f', bound]);
    assert.equal(c.code, 0, show(c));
    original = await dumpDrill(s1);
    assert.equal(original.length, 200);

    const save = await runCli(['snapshot', 'save', '--name', 'drill', '--kubeconfig', s1.kubeconfig, '-o', 'json']);
    assert.equal(save.code, 0, showCli(save));
    const rec = JSON.parse(save.stdout) as { file: string; store: string; revision: number; objects: number; sha256: string; size: number };
    assert.equal(rec.store, 'sqlite');
    assert.ok(rec.objects >= 202, `objects ${rec.objects}`);
    assert.ok(rec.revision >= maxResourceVersion(original));
    assert.match(rec.sha256, /^[0-9a-f]{64}$/);
    assert.equal(rec.file, join(s1.dataDir, 'snapshots', 'drill.snapshot'));

    const ls = await runCli(['snapshot', 'ls', '--kubeconfig', s1.kubeconfig]);
    assert.equal(ls.code, 0, showCli(ls));
    assert.match(ls.stdout, /^NAME\s+SERVER\s+STORE\s+REVISION\s+OBJECTS\s+SIZE\s+CREATED\s+SHA256\s+FILE$/m);
    assert.match(ls.stdout, new RegExp(`^drill\\s+s1\\s+sqlite\\s+${rec.revision}\\s+${rec.objects}\\s`, 'm'));
    const cm = await s1.kubectl(['get', 'configmap', '-n', 'kube-system', 'trireme-snapshots', '-o', 'jsonpath={.data.drill}']);
    assert.equal(cm.code, 0, show(cm));
    assert.deepEqual(JSON.parse(cm.stdout), { ...rec, name: 'drill', server: 's1', created: (JSON.parse(cm.stdout) as { created: string }).created });
    const metrics = await rawRequest(readCredentials(s1.kubeconfig), '/metrics', { headers: { Accept: 'text/plain' } });
    assert.match(metrics.text, /^trireme_snapshot_total\{result="success"\} 1$/m);
    assert.match(metrics.text, new RegExp(`^trireme_snapshot_last_size_bytes\\{server="s1"\\} ${rec.size}$`, 'm'));
    assert.match(metrics.text, /^trireme_snapshot_last_success_timestamp_seconds\{server="s1"\} \d+/m);
    assert.match(metrics.text, /^trireme_snapshot_duration_seconds_count 1$/m);

    file = join(root, 'drill.snapshot');
    await copyFile(rec.file, file);
    // Writes after the snapshot: the restore loses them, and must number past them.
    for (let i = 0; i < 5; i++) {
      const r = await s1.kubectl(['create', 'configmap', `late-${i}`, '-o', 'jsonpath={.metadata.resourceVersion}']);
      assert.equal(r.code, 0, show(r));
      maxSeen = Math.max(maxSeen, Number(r.stdout));
    }
    await s1.kill();
    await rm(s1.dataDir, { recursive: true, force: true });
  });

  it('verify passes on the file; a corrupted copy is refused by its checksum, by verify and by a restore', async () => {
    const v = await runCli(['snapshot', 'verify', file]);
    assert.equal(v.code, 0, showCli(v));
    assert.match(v.stdout, /: ok — sqlite snapshot drill of s1, revision \d+, \d+ objects restored and compared/);
    const bad = join(root, 'corrupt.snapshot');
    const bytes = await readFile(file);
    bytes[bytes.length - 200] = bytes[bytes.length - 200]! ^ 0x01;
    await writeFile(bad, bytes);
    const vb = await runCli(['snapshot', 'verify', bad]);
    assert.equal(vb.code, 1, showCli(vb));
    assert.match(vb.stderr, /^trireme snapshot verify: snapshot .*corrupt\.snapshot is corrupt: the SHA-256 of its contents is [0-9a-f]+…, its manifest says [0-9a-f]+…/);
    assert.equal(vb.stderr.trim().split('\n').length, 1, vb.stderr);
    const target = join(root, 'never', 'data');
    const r = await runCli(['server', '--cluster-reset', '--restore-from', bad, '--data-dir', target, '--bind-address', '127.0.40.3', '--https-port', '0', '--disable-agent', '--disable-dns']);
    assert.equal(r.code, 1, showCli(r));
    assert.match(r.stderr, /^trireme server: snapshot .* is corrupt/);
    assert.equal(existsSync(target), false, 'nothing written for a corrupt snapshot');
  });

  it('restores onto the same address and a wiped data dir: every object equal, revisions past all seen, old watches relist', async () => {
    const s1 = all[0]!;
    await s1.start(['--cluster-reset', '--restore-from', file, ...LIFECYCLE]);
    assertSameObjects(await dumpDrill(s1), original);
    const late = await s1.kubectl(['get', 'configmap', 'late-0']);
    assert.equal(late.code, 1, 'a write after the snapshot is not in it');
    const w = await s1.kubectl(['create', 'configmap', 'after-restore', '-o', 'jsonpath={.metadata.resourceVersion}']);
    assert.equal(w.code, 0, show(w));
    assert.ok(Number(w.stdout) > maxSeen, `new resourceVersion ${w.stdout} must pass ${maxSeen}`);
    const watch = await rawRequest(readCredentials(s1.kubeconfig), `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${maxSeen}`, { timeoutMs: 10_000 });
    assert.ok(watch.status === 410 || /"code":410/.test(watch.text), `a watch from before the restore must be told to relist: ${watch.status} ${watch.text.slice(0, 300)}`);
    await s1.stop();
  });

  it('restores onto a new address and a new data dir: same CA, every object equal, the lost node handled as any node loss', async () => {
    const oldKubeconfig = join(root, 'old-kubeconfig.yaml');
    // The wiped server's admin kubeconfig, as a user would still have it (the restore above wrote the same CA).
    await copyFile(all[0]!.kubeconfig, oldKubeconfig);
    const r2 = await HaServer.create(root, 'r2', '127.0.40.2', { agent: true });
    all.push(r2);
    await r2.start(['--cluster-reset', '--restore-from', file, ...LIFECYCLE]);
    try {
      assertSameObjects(await dumpDrill(r2), original);
      const creds = { ...readCredentials(oldKubeconfig), server: r2.url };
      const viaOld = await rawRequest(creds, '/api/v1/namespaces/drill-3/configmaps/cm-3');
      assert.equal(viaOld.status, 200, viaOld.text);
      // 3 s grace and 1 s tolerations; the rest is leader election and start-up on a loaded machine.
      await waitFor('lost-node to go Unknown and its pod to be removed', async () => {
        const node = await r2.kubectl(['get', 'node', 'lost-node', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        const pod = await r2.kubectl(['get', 'pod', 'bound', '-n', 'default']);
        return node.stdout === 'Unknown' && pod.code === 1 && /NotFound/.test(pod.stderr) ? true : undefined;
      }, 120_000, 500);
    } finally {
      // The next test restores onto this data dir: the server must be gone even when this one failed.
      await r2.stop();
    }
  });

  it('a restore onto a data dir that holds a store snapshots it first', async () => {
    const r2 = all[1]!;
    await r2.start(['--cluster-reset', '--restore-from', file, ...LIFECYCLE]);
    const pre = (await readdir(join(r2.dataDir, 'snapshots'))).filter((f) => f.startsWith('pre-reset-r2-'));
    assert.equal(pre.length, 1, `pre-reset snapshot: ${pre.join(', ')}`);
    const v = await runCli(['snapshot', 'verify', join(r2.dataDir, 'snapshots', pre[0]!)]);
    assert.equal(v.code, 0, showCli(v));
    assertSameObjects(await dumpDrill(r2), original);
    await r2.stop();
  });
});
