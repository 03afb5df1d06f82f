// bench/authz: what RBAC costs a request. `node dist/bench/run.js authz [--quick] [--rounds N] [--seconds S] [--bindings N]`.
// One real `trireme server` (SQLite, no agent, no DNS) on 127.0.40.46 and two identities doing
// the same closed loop (8 clients, each op a ConfigMap create then a GET of it, namespace
// `authz`), in alternating rounds (ABBA order, so drift hits both alike):
//   - fixed: the admin (group system:masters), admitted by the fixed rules the chain consults
//     before RBAC (src/apiserver/auth.ts) — the whole authorization of every request before RBAC;
//   - rbac: user `bench-user` (a client certificate from the cluster CA), admitted by RBAC through
//     a RoleBinding to the default `edit` ClusterRole (an aggregated one), with `--bindings`
//     other RoleBindings in the same namespace (default 200) so the index is not trivially small.
// Reported: ops/s per identity per round, the median of the per-round ratios rbac/fixed (goal
// ≥ 0.90), p50/p99 of each. Writes bench/results/authz.json. Does not: measure admission of RBAC
// objects themselves (escalation checks), or an etcd store.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Agent } from 'node:https';
import { issueFromCa, pkiPaths } from '../src/apiserver/pki.js';
import { runClosedLoop, type LoopResult } from './lib/closed-loop.js';
import { adminAgent, readCredentials, sendExpect, type Credentials } from './lib/https-client.js';
import { cliMain, resultsDir } from './lib/paths.js';
import { median } from './lib/rounds.js';
import { benchTracker, startCliServer } from './lib/server-process.js';

const HOST = '127.0.40.46';
const NS = 'authz';
const USER = 'bench-user';

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

interface Identity { name: 'fixed' | 'rbac'; creds: Credentials; agent: Agent }

async function loop(id: Identity, roundNo: number, seconds: number): Promise<LoopResult> {
  return runClosedLoop({
    concurrency: 8, durationMs: seconds * 1000, warmupMs: 500, maxOps: 1_000_000,
    op: async (seq) => {
      const name = `${id.name}-${roundNo}-${seq}`;
      await sendExpect(id.creds, id.agent, { method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`, body: JSON.stringify({ metadata: { name }, data: { v: 'x'.repeat(100) } }) }, 201);
      await sendExpect(id.creds, id.agent, { method: 'GET', path: `/api/v1/namespaces/${NS}/configmaps/${name}` }, 200);
    },
  });
}

export async function main(args: string[]): Promise<number> {
  const quick = args.includes('--quick');
  const rounds = Number(arg(args, '--rounds') ?? (quick ? 2 : 6));
  const seconds = Number(arg(args, '--seconds') ?? (quick ? 3 : 8));
  const bindings = Number(arg(args, '--bindings') ?? 200);
  const root = await mkdtemp(join(tmpdir(), 'trireme-bench-authz-'));
  const tracker = benchTracker();
  const dataDir = join(root, 'server');
  await mkdir(dataDir, { recursive: true });
  const server = await startCliServer({
    cliMain: cliMain(), dataDir, host: HOST, logFile: join(root, 'server.log'), tracker, subcommand: 'server', readyTimeoutMs: 120_000,
    extraArgs: ['--disable-agent', '--disable-dns', '--snapshot-schedule', 'off', '--node-name', 'bench'],
  });
  const admin = readCredentials(server.kubeconfigPath);
  const ids: Identity[] = [];
  try {
    const adminConn = adminAgent(admin, 16);
    ids.push({ name: 'fixed', creds: admin, agent: adminConn });
    const post = (path: string, body: unknown): Promise<unknown> => sendExpect(admin, adminConn, { method: 'POST', path, body: JSON.stringify(body) }, 201);
    await post('/api/v1/namespaces', { metadata: { name: NS } });
    const rbacPath = `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`;
    for (let i = 0; i < bindings; i++) {
      await post(rbacPath, { metadata: { name: `other-${i}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `other-${i}` }] });
    }
    await post(rbacPath, { metadata: { name: 'bench-edit' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: USER }] });
    const paths = pkiPaths(dataDir);
    const cert = await issueFromCa({ caCertPem: await readFile(paths.caCert, 'utf8'), caKeyPem: await readFile(paths.caKey, 'utf8') }, { commonName: USER, organizations: ['bench'], usages: ['clientAuth'], days: 1 });
    const user: Credentials = { server: admin.server, ca: admin.ca, cert: cert.certPem, key: cert.keyPem };
    ids.push({ name: 'rbac', creds: user, agent: adminAgent(user, 16) });
    // The binding is seen by the authorizer's cache shortly after it is written.
    for (let i = 0; ; i++) {
      try {
        await sendExpect(user, ids[1]!.agent, { method: 'GET', path: `/api/v1/namespaces/${NS}/configmaps?limit=1` }, 200);
        break;
      } catch (e) {
        if (i >= 100) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await loop(ids[0]!, 0, 2); // warm both paths and the store
    await loop(ids[1]!, 0, 2);
    const rows: { round: number; fixed: LoopResult; rbac: LoopResult; ratio: number }[] = [];
    for (let r = 1; r <= rounds; r++) {
      const order = r % 2 === 1 ? [ids[0]!, ids[1]!] : [ids[1]!, ids[0]!];
      const res: Partial<Record<'fixed' | 'rbac', LoopResult>> = {};
      for (const id of order) res[id.name] = await loop(id, r, seconds);
      const ratio = round2(res.rbac!.opsPerSec / res.fixed!.opsPerSec);
      rows.push({ round: r, fixed: res.fixed!, rbac: res.rbac!, ratio });
      process.stdout.write(`round ${r}: fixed ${res.fixed!.opsPerSec.toFixed(1)} ops/s (p99 ${res.fixed!.latency.p99Ms.toFixed(1)} ms, ${res.fixed!.errors} errors) | rbac ${res.rbac!.opsPerSec.toFixed(1)} ops/s (p99 ${res.rbac!.latency.p99Ms.toFixed(1)} ms, ${res.rbac!.errors} errors) | ratio ${ratio}\n`);
    }
    const ratio = median(rows.map((x) => x.ratio)) ?? 0;
    const summary = {
      benchmark: 'authz', at: new Date().toISOString(), rounds, seconds, bindings, opIs: 'create + get of one ConfigMap',
      medianRatio: ratio, goal: 0.9, met: ratio >= 0.9,
      fixedOpsPerSecMedian: median(rows.map((x) => x.fixed.opsPerSec)), rbacOpsPerSecMedian: median(rows.map((x) => x.rbac.opsPerSec)),
      rounds_: rows.map((x) => ({ round: x.round, ratio: x.ratio, fixed: { opsPerSec: round2(x.fixed.opsPerSec), p50Ms: x.fixed.latency.p50Ms, p99Ms: x.fixed.latency.p99Ms, errors: x.fixed.errors }, rbac: { opsPerSec: round2(x.rbac.opsPerSec), p50Ms: x.rbac.latency.p50Ms, p99Ms: x.rbac.latency.p99Ms, errors: x.rbac.errors } })),
    };
    await mkdir(resultsDir(), { recursive: true });
    await writeFile(join(resultsDir(), 'authz.json'), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`authz: RBAC / fixed rules, create+get ops/s, median of ${rounds} rounds: ${ratio} (goal ≥ 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'}); fixed ${summary.fixedOpsPerSecMedian?.toFixed(1)} ops/s, rbac ${summary.rbacOpsPerSecMedian?.toFixed(1)} ops/s\n`);
    return 0;
  } finally {
    for (const id of ids) id.agent.destroy();
    await server.stop();
    await rm(root, { recursive: true, force: true });
  }
}
