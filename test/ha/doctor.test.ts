// `trireme doctor` on a healthy 3-server cluster, then on the same cluster broken for real.
// Three servers on a managed etcd (127.0.62.1-3), each with its local agent (nodes s1-s3) so
// workloads can spread, the cluster DNS add-on on (two replicas on two nodes), Services from
// 127.60.128.0/18, leader leases of 15 s; a Deployment of 3 with required anti-affinity (one pod per node); snapshot
// records from two machines in kube-system/trireme-snapshots, written as the snapshot service
// records them. Checked:
// - healthy: `trireme doctor` finds nothing and exits 0 (polled while the agents learn every
//   server and DNS settles);
// - kill -9 of s3 (server, etcd member, agent): the doctor reports s3's store member down and,
//   once s3 leaves default/kubernetes, fewer than 3 servers; exit 1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deps, needs } from '../helpers/require-dep.js';
import { show, waitFor } from '../e2e/harness.js';
import { trackAgentDataDir } from '../e2e/harness/tracking.js';
import type { DoctorReport } from '../../src/ops/doctor/report.js';
import { HaServer, runCli, showCli, stopAllAndClean, type CliResult } from './servers.js';

// Kubernetes' own leader-election timings instead of our 2 s default: on a machine shared with
// other test runs (load far above its 2 cores) 2 s leases really do change hands every few
// minutes, which the doctor rightly reports as churn; a healthy cluster there needs the longer ones.
const FLAGS = ['--service-cluster-ip-range', '127.60.128.0/18', '--leader-elect-lease-duration', '15', '--leader-elect-renew-deadline', '10', '--leader-elect-retry-period', '2'];

const web = JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 3, selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } },
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }],
      },
    },
  },
});

function snapshotRecords(): string {
  const rec = (name: string, server: string, agoMs: number) => JSON.stringify({
    name, file: `/var/lib/trireme/snapshots/${name}.db.gz`, server, store: 'etcd', revision: 100, objects: 50, size: 4096, sha256: '0'.repeat(64),
    created: new Date(Date.now() - agoMs).toISOString(),
  });
  return JSON.stringify({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trireme-snapshots', namespace: 'kube-system' },
    data: { 'snap-s1': rec('snap-s1', 's1', 3_600_000), 'snap-s2': rec('snap-s2', 's2', 1_800_000) },
  });
}

describe('trireme doctor on three servers', { skip: needs(deps.etcd, deps.kubectl, deps.nativeShim), timeout: 600_000 }, () => {
  let root = '';
  const all: HaServer[] = [];

  async function doctor(s: HaServer): Promise<{ r: CliResult; report: DoctorReport }> {
    const r = await runCli(['doctor', '--kubeconfig', s.kubeconfig, '-o', 'json'], 60_000);
    assert.ok(r.code === 0 || r.code === 1, showCli(r));
    return { r, report: JSON.parse(r.stdout) as DoctorReport };
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-ha-doctor-'));
    for (let i = 1; i <= 3; i++) {
      const s = await HaServer.create(root, `s${i}`, `127.0.62.${i}`, { agent: true, dns: true, portRange: [29750 + 50 * (i - 1), 29799 + 50 * (i - 1)], extraArgs: FLAGS });
      trackAgentDataDir(s.dataDir);
      all.push(s);
    }
    const [s1, s2, s3] = all as [HaServer, HaServer, HaServer];
    await s1.start(['--cluster-init']);
    const token = (await readFile(join(s1.dataDir, 'token'), 'utf8')).trim();
    await s2.start(['--server', s1.url, '--token', token]);
    await s3.start(['--server', s1.url, '--token', token]);
  });

  after(async () => {
    await all[0]?.kubectl(['delete', 'deployment', 'web', '--wait=false']).catch(() => undefined);
    // The agents leave their containers (web, DNS) running: killAll ends them (data dirs tracked).
    await stopAllAndClean(all, root);
  });

  it('a healthy cluster: no finding, exit 0', async () => {
    const s1 = all[0]!;
    for (const input of [web, snapshotRecords()]) {
      const r = await s1.kubectl(['apply', '-f', '-'], { input });
      assert.equal(r.code, 0, show(r));
    }
    let last: CliResult | undefined;
    try {
      await waitFor('trireme doctor to find nothing', async () => {
        last = await runCli(['doctor', '--kubeconfig', s1.kubeconfig], 60_000);
        return last.code === 0 ? true : undefined;
      }, 180_000, 2000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nlast answer:\n${last ? showCli(last) : 'none'}`);
    }
    assert.equal(last!.stdout, 'No single point of failure found.\n');
    // What "healthy" rested on, from the observation itself.
    const { report } = await doctor(s1);
    assert.deepEqual(report.findings, []);
    const o = report.observation;
    assert.equal(o.servers.length, 3);
    assert.equal(o.store.members.filter((m) => !m.isLearner && m.healthy).length, 3);
    // Each agent knows more than one server (the third may still be on its way into its list).
    assert.deepEqual(o.nodes.map((n) => n.name).sort(), ['s1', 's2', 's3']);
    for (const n of o.nodes) assert.ok((n.knownServers?.length ?? 0) >= 2, `${n.name} knows ${n.knownServers?.join(', ')}`);
    assert.equal(new Set(o.dns?.podNodes).size, 2, `DNS on two nodes: ${JSON.stringify(o.dns)}`);
    assert.deepEqual([...new Set(o.workloads.find((w) => w.name === 'web')?.podNodes)].sort(), ['s1', 's2', 's3']);
    assert.deepEqual(o.snapshots?.map((x) => x.server).sort(), ['s1', 's2']);
    assert.ok(o.certificates.filter((c) => c.kind === 'apiserver').length === 3 && o.certificates.filter((c) => c.kind === 'kubelet').length === 3, JSON.stringify(o.certificates));
  });

  it('kill -9 of s3: its store member down, then fewer than 3 servers; exit 1', async () => {
    const [s1, , s3] = all as [HaServer, HaServer, HaServer];
    await s3.kill();
    const report = await waitFor('the doctor to see s3 gone', async () => {
      const { r, report: rep } = await doctor(s1);
      const got = new Set(rep.findings.map((f) => `${f.id} ${f.subject}`));
      return r.code === 1 && got.has('store-member-down store member s3') && got.has('servers-fewer-than-3 control plane') ? rep : undefined;
    }, 60_000, 1000);
    const down = report.findings.find((f) => f.id === 'store-member-down')!;
    assert.equal(down.severity, 'critical');
    assert.match(down.fix, /trireme cluster remove s3/);
    process.stdout.write(`# findings after kill -9 of s3: ${report.findings.map((f) => `${f.id} (${f.subject})`).join(', ')}\n`);
  });
});
