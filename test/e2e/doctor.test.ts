// End-to-end: `trireme doctor` on a broken cluster — one `trireme server` (SQLite) with its local
// agent (node d1, 127.0.61.1) — through the CLI and GET /trireme/v1/cluster/doctor:
// - it reports the single server, the unreplicated store and that no snapshot is recorded, each
//   with a fix, and exits 1; `-o json` carries the same findings and the observation;
// - a 1-replica Deployment adds a finding naming it; scaled to 2 on the one node, the finding
//   becomes "all replicas on one node";
// - the route is admin-only (no credentials: 401) and kubectl can read it raw;
// - a kubeconfig naming no reachable server: one line, exit 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteWorkloads, killAll, show, startServer, waitFor, type ServerHandle } from './harness.js';
import { runCli, showCli, type CliResult } from '../ha/servers.js';
import { deps, needs } from '../helpers/require-dep.js';
import type { DoctorReport } from '../../src/ops/doctor/report.js';

let server: ServerHandle;
// Kubernetes' leader timings: with the 2 s default, a saturated machine makes even a lone server
// lose and retake its Leases, which the doctor rightly reports as leader-churn.
const LEADER_TIMINGS = ['--leader-elect-lease-duration', '15', '--leader-elect-renew-deadline', '10', '--leader-elect-retry-period', '2'];

async function doctorJson(): Promise<{ r: CliResult; report: DoctorReport }> {
  const r = await runCli(['doctor', '--kubeconfig', server.kubeconfig, '-o', 'json'], 60_000);
  assert.ok(r.code === 0 || r.code === 1, showCli(r));
  return { r, report: JSON.parse(r.stdout) as DoctorReport };
}

const ids = (rep: DoctorReport): string[] => rep.findings.map((f) => `${f.id} ${f.subject}`).sort();

describe('trireme doctor on a one-server cluster', { skip: needs(deps.kubectl) || needs(deps.nativeShim) }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.61.1', agent: { nodeName: 'd1', portRange: [29700, 29749] }, extraArgs: ['--service-cluster-ip-range', '127.60.64.0/18', ...LEADER_TIMINGS] });
    // Both leader Leases held before the doctor looks (a Lease without a holder is leader-missing).
    await waitFor('both leader Leases to have a holder', async () => {
      const r = await server.kubectl(['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', 'kube-scheduler', '-o', 'jsonpath={.items[*].spec.holderIdentity}']);
      return (r.code === 0 && r.stdout.trim().split(/\s+/).filter(Boolean).length === 2) || undefined;
    }, 60_000, 500);
  });

  after(async () => {
    try {
      if (server) await deleteWorkloads(server);
      await server?.dispose();
    } finally {
      killAll();
    }
  });

  test('one server, SQLite, no snapshot: reported with fixes, exit 1', async () => {
    const r = await runCli(['doctor', '--kubeconfig', server.kubeconfig], 60_000);
    assert.equal(r.code, 1, showCli(r));
    assert.match(r.stdout, /^CRITICAL control plane: 1 API server in default\/kubernetes \(127\.0\.61\.1:\d+\).*\[servers-fewer-than-3\]$/m, showCli(r));
    assert.match(r.stdout, /\[store-not-replicated\]/);
    assert.match(r.stdout, /no snapshot recorded \(kube-system\/trireme-snapshots does not exist\)/);
    assert.match(r.stdout, /fix: run 3 \(or 5\) servers/);
    const { report } = await doctorJson();
    assert.equal(report.kind, 'DoctorReport');
    assert.deepEqual(ids(report), ['servers-fewer-than-3 control plane', 'snapshot-none snapshots', 'store-not-replicated store']);
    assert.equal(report.observation.store.backend, 'sqlite');
    assert.equal(report.observation.nodes[0]?.name, 'd1');
    assert.ok(report.observation.certificates.some((c) => c.kind === 'apiserver') && report.observation.certificates.some((c) => c.kind === 'kubelet'), JSON.stringify(report.observation.certificates));
  });

  test('a 1-replica Deployment is named; two replicas on the one node are all on one node', async () => {
    const c = await server.kubectl(['create', 'deployment', 'solo', '--image=busybox', '--replicas=1', '--', 'sleep', '3600']);
    assert.equal(c.code, 0, show(c));
    await waitFor('the doctor to name deployment default/solo', async () => {
      const { report } = await doctorJson();
      return report.findings.some((f) => f.id === 'workload-single-replica' && f.subject === 'deployment default/solo') ? true : undefined;
    }, 30_000, 500);
    const s = await server.kubectl(['scale', 'deployment', 'solo', '--replicas=2']);
    assert.equal(s.code, 0, show(s));
    const report = await waitFor('both replicas on d1 to be seen', async () => {
      const { report: rep } = await doctorJson();
      return rep.findings.some((f) => f.id === 'workload-one-node') ? rep : undefined;
    }, 30_000, 500);
    const f = report.findings.find((x) => x.id === 'workload-one-node')!;
    assert.equal(f.subject, 'deployment default/solo');
    assert.match(f.message, /all 2 running replicas .* on node d1/);
    assert.ok(!report.findings.some((x) => x.id === 'workload-single-replica'), 'the 1-replica finding is gone');
  });

  test('the route: admin only, readable with kubectl get --raw', async () => {
    const anon = await server.request('/trireme/v1/cluster/doctor', { auth: false });
    assert.equal(anon.status, 401, anon.text);
    const raw = await server.kubectl(['get', '--raw', '/trireme/v1/cluster/doctor']);
    assert.equal(raw.code, 0, show(raw));
    const body = JSON.parse(raw.stdout) as { findings: { id: string; severity: string; subject: string; message: string; fix: string }[] };
    assert.ok(body.findings.length >= 3);
    for (const f of body.findings) assert.deepEqual(Object.keys(f).sort(), ['fix', 'id', 'message', 'severity', 'subject']);
  });

  test('no reachable server: one line, exit 2', async () => {
    const bad = join(server.scratch, 'unreachable.kubeconfig');
    const text = readFileSync(server.kubeconfig, 'utf8').replace(/server: https:\/\/[^\s]+/, 'server: https://127.0.61.9:1');
    writeFileSync(bad, text);
    const r = await runCli(['doctor', '--kubeconfig', bad], 60_000);
    assert.equal(r.code, 2, showCli(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^trireme doctor: .+\n$/);
  });
});
