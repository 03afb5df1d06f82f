// Failover benchmark: a three-server cluster on a managed etcd (real processes on 127.0.9.x: s1
// with --cluster-init, s2 and s3 joining), `trireme lb` in front, two agents, a Deployment, and
// two steady writers — one through `trireme lb`, one through the client-side balancer.
// Rounds of kill -9 of a leading server (its etcd member with it; even rounds the
// controller-manager leader's server, odd rounds the scheduler leader's), each measuring:
//  - the longest gap between two acknowledged writes around the kill, per writer;
//  - time from the kill to a new controller-manager / scheduler leader on another server (when
//    the killed server led it);
//  - time from the kill until a pod created at that moment is Running;
// then the killed server is restarted with its data dir (no join flags) and the cluster waits
// for three healthy voting members. In the same run, the etcd leader alone is killed (the
// server stays) for the floor: etcd's own re-election time and the write gap it causes.
// At the end: acknowledged writes missing (lost), pods of the Deployment above its replicas at
// any sample (duplicates), and creates through the balancer with three servers versus one
// server directly (closed loop, 8 clients), the balancer's cost.
// Writes bench/results/failover-<ts>.json and failover-latest.json.
// Usage: npm run bench -- failover [--rounds N] [--etcd-rounds N] [--rate W] [--quick]
// Guarantees: bounded (every wait has a timeout; a round that times out is recorded as such and
// the run goes on); every process is killed on exit, the agents' containers included.
// Does not: assert anything (the summary judges the goals), or measure power loss of a machine
// (kill -9 of the processes is the stand-in; sockets on loopback are closed by the kernel).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../src/api/object.js';
import { ApiClient } from '../src/client/api-client.js';
import { balancedConfig, ServerBalancer } from '../src/client/balancer.js';
import { loadKubeconfig, type ClientConfig } from '../src/client/config.js';
import { resource } from '../src/client/resources.js';
import { isTriremeError } from '../src/errors.js';
import { etcdPaths } from '../src/etcd/index.js';
import { Etcd3 } from 'etcd3';
import { openEtcdAdmin } from '../src/etcd/membership.js';
import { HaServerProcess } from '../src/launch/ha-server.js';
import { launchCli, type LaunchedProcess } from '../src/launch/cli-process.js';
import { AckLog, longestGap } from './lib/ack-log.js';
import { runClosedLoop, type LoopResult } from './lib/closed-loop.js';
import { cliMain, repoRoot, resultsDir } from './lib/paths.js';
import { machine, round } from './lib/report.js';
import { median, sleep, stat, until } from './lib/rounds.js';
import { sweepContainers } from './lib/agent-cluster.js';
import { benchTracker } from './lib/server-process.js';

const PODS = resource('', 'pods');
const LEASES = resource('coordination.k8s.io', 'leases');
const DEPLOYMENTS = resource('apps', 'deployments');
const CONFIGMAPS = resource('', 'configmaps');

const SERVER_IPS = ['127.0.9.1', '127.0.9.2', '127.0.9.3'];
const LB_IP = '127.0.9.10';
const AGENT_IPS = ['127.0.9.81', '127.0.9.82'];
const STEADY_REPLICAS = 3;
const ROUND_TIMEOUT_MS = 60_000;

interface Options {
  rounds: number;
  etcdRounds: number;
  ratePerSec: number;
}

function parseArgs(args: string[]): Options | string {
  const o: Options = { rounds: 10, etcdRounds: 3, ratePerSec: 20 };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--quick') { o.rounds = 3; o.etcdRounds = 1; continue; }
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 0) return `${flag} needs a whole number`;
    if (flag === '--rounds') o.rounds = v;
    else if (flag === '--etcd-rounds') o.etcdRounds = v;
    else if (flag === '--rate') o.ratePerSec = Math.max(1, v);
    else return `unknown flag ${flag}`;
  }
  return o;
}

interface KillRound {
  round: number;
  victim: string;
  ledControllerManager: boolean;
  ledScheduler: boolean;
  /** Longest gap between acknowledged writes around the kill, per writer, ms. */
  gapLbMs: number;
  gapBalancerMs: number;
  newControllerManagerMs?: number;
  newSchedulerMs?: number;
  podRunningMs?: number;
  rejoinMs?: number;
  timedOut: string[];
}

interface EtcdRound {
  victim: string;
  reelectionMs?: number;
  gapLbMs: number;
  gapBalancerMs: number;
  timedOut: string[];
}

async function holder(client: ApiClient, lease: string): Promise<string | undefined> {
  const l = await client.get<Lease & KubeObject>(LEASES, 'kube-system', lease);
  return l.spec?.holderIdentity || undefined;
}

export async function main(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    process.stderr.write(`failover: ${opts}\n`);
    return 2;
  }
  const loadStart = loadavg()[0] ?? 0;
  const startedAt = new Date().toISOString();
  const tracker = benchTracker();
  const root = mkdtempSync(join(tmpdir(), 'trireme-bench-failover-'));
  const entry = cliMain();
  const cwd = repoRoot();
  const servers: HaServerProcess[] = [];
  const others: LaunchedProcess[] = [];
  const closers: (() => void)[] = [];
  const agentDirs: string[] = [];
  try {
    for (const [i, ip] of SERVER_IPS.entries()) {
      servers.push(await HaServerProcess.prepare(root, `s${i + 1}`, ip, { entry, cwd, tracker, extraArgs: ['--tls-san', LB_IP] }));
    }
    const [s1, s2, s3] = servers as [HaServerProcess, HaServerProcess, HaServerProcess];
    process.stderr.write('starting three servers…\n');
    await s1.start(['--cluster-init']);
    const token = readFileSync(join(s1.dataDir, 'token'), 'utf8').trim();
    await s2.start(['--server', s1.url, '--token', token]);
    await s3.start(['--server', s1.url, '--token', token]);
    const lbDir = join(root, 'lb');
    const lb = await launchCli({
      entry, cwd, tracker, dataDir: lbDir, logFile: join(root, 'lb.log'),
      args: ['lb', '--listen', `${LB_IP}:0`, '--data-dir', lbDir, ...servers.flatMap((s) => ['--server', s.url])],
    });
    others.push(lb);
    const lbUrl = `https://${LB_IP}:${lb.ready.lb?.port ?? 0}`;
    for (const [i, ip] of AGENT_IPS.entries()) {
      const dataDir = join(root, `a${i + 1}`);
      agentDirs.push(dataDir);
      const from = 30_000 + i * 100;
      others.push(await launchCli({
        entry, cwd, tracker, dataDir, logFile: join(root, `a${i + 1}.log`), readyTimeoutMs: 120_000,
        args: ['agent', '--server', s1.url, '--token', token, '--data-dir', dataDir, '--node-name', `a${i + 1}`, '--node-ip', ip,
          '--kubelet-port', '0', '--port-range', `${from}-${from + 49}`],
      }));
    }

    const admin: ClientConfig = loadKubeconfig(s1.kubeconfig);
    const lbClient = new ApiClient({ ...admin, server: lbUrl }, { requestTimeoutMs: 15_000 });
    const balancer = await ServerBalancer.open({ seed: s1.url, identity: admin });
    balancer.start();
    const balClient = new ApiClient(balancedConfig({ ...admin, server: s1.url }, balancer), { requestTimeoutMs: 15_000 });
    closers.push(() => lbClient.close(), () => balClient.close(), () => balancer.stop());

    await lbClient.create(DEPLOYMENTS, 'default', {
      metadata: { name: 'steady' },
      spec: {
        replicas: STEADY_REPLICAS, selector: { matchLabels: { app: 'steady' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: { metadata: { labels: { app: 'steady' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } },
      },
    } as KubeObject);
    const activeSteady = async (): Promise<number> => (await lbClient.list<Pod & KubeObject>(PODS, 'default', { labelSelector: 'app=steady' })).items
      .filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
    await until(async () => ((await activeSteady()) === STEADY_REPLICAS) || undefined, 120_000, 500);

    // Pods of the Deployment above its replicas, sampled through the whole run.
    let maxSteady = 0;
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; i < 1_000_000 && sampling; i++) {
        try { maxSteady = Math.max(maxSteady, await activeSteady()); } catch { /* unanswered sample */ }
        await sleep(250);
      }
    })();

    const maxWrites = 1_000_000;
    const viaLb = new AckLog(lbClient, 'lb', { ratePerSec: opts.ratePerSec, maxWrites });
    const viaBalancer = new AckLog(balClient, 'bal', { ratePerSec: opts.ratePerSec, maxWrites });
    await sleep(3000);

    const serverOf = (identity: string | undefined): HaServerProcess | undefined => servers.find((s) => identity?.startsWith(`${s.name}_`));
    const waitHealthy = async (): Promise<boolean> => (await until(async () => {
      const st = await lbClient.request<{ store: { members: { healthy: boolean; isLearner: boolean }[] } }>('GET', '/trireme/v1/cluster');
      return st.store.members.filter((m) => m.healthy && !m.isLearner).length === 3 || undefined;
    }, 180_000, 500)) === true;

    const killRounds: KillRound[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const lease = r % 2 === 0 ? 'kube-controller-manager' : 'kube-scheduler';
      const cmBefore = await until(() => holder(lbClient, 'kube-controller-manager'), 30_000);
      const schedBefore = await until(() => holder(lbClient, 'kube-scheduler'), 30_000);
      const victim = serverOf(lease === 'kube-controller-manager' ? cmBefore : schedBefore);
      if (!victim) throw new Error(`round ${r}: no server holds ${lease} (${cmBefore} / ${schedBefore})`);
      const row: KillRound = {
        round: r, victim: victim.name, ledControllerManager: serverOf(cmBefore) === victim, ledScheduler: serverOf(schedBefore) === victim,
        gapLbMs: 0, gapBalancerMs: 0, timedOut: [],
      };
      process.stderr.write(`round ${r + 1}/${opts.rounds}: kill -9 ${victim.name} (leads ${[row.ledControllerManager && 'controller manager', row.ledScheduler && 'scheduler'].filter(Boolean).join(' and ')})\n`);
      const podName = `at-kill-${r}`;
      const t0 = Date.now();
      const killed = victim.kill();
      const podRunning = (async () => {
        const created = await until(async () => {
          try {
            await lbClient.create(PODS, 'default', { metadata: { name: podName }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } } as KubeObject);
            return true;
          } catch (e) {
            if (isTriremeError(e, 'AlreadyExists')) return true;
            throw e;
          }
        }, ROUND_TIMEOUT_MS, 100);
        if (!created) return undefined;
        const running = await until(async () => ((await lbClient.get<Pod & KubeObject>(PODS, 'default', podName)).status?.phase === 'Running') || undefined, ROUND_TIMEOUT_MS, 100);
        return running ? Date.now() - t0 : undefined;
      })();
      const newLeader = async (name: string): Promise<number | undefined> => {
        const ok = await until(async () => {
          const h = await holder(lbClient, name);
          const s = serverOf(h);
          return (s !== undefined && s !== victim) || undefined;
        }, ROUND_TIMEOUT_MS, 50);
        return ok ? Date.now() - t0 : undefined;
      };
      const [cmMs, schedMs, podMs] = await Promise.all([
        row.ledControllerManager ? newLeader('kube-controller-manager') : Promise.resolve(undefined),
        row.ledScheduler ? newLeader('kube-scheduler') : Promise.resolve(undefined),
        podRunning,
      ]);
      await killed;
      if (row.ledControllerManager) { if (cmMs === undefined) row.timedOut.push('controller manager'); else row.newControllerManagerMs = cmMs; }
      if (row.ledScheduler) { if (schedMs === undefined) row.timedOut.push('scheduler'); else row.newSchedulerMs = schedMs; }
      if (podMs === undefined) row.timedOut.push('pod running'); else row.podRunningMs = podMs;
      await sleep(2000);
      const windowEnd = Date.now();
      const tRejoin = Date.now();
      await victim.start();
      if (await waitHealthy()) row.rejoinMs = Date.now() - tRejoin;
      else row.timedOut.push('rejoin');
      // Measured now, so that a stretch without acknowledgements that ended after the window counts whole.
      row.gapLbMs = longestGap(viaLb.acks, t0, windowEnd, Date.now());
      row.gapBalancerMs = longestGap(viaBalancer.acks, t0, windowEnd, Date.now());
      await lbClient.delete(PODS, 'default', podName, { gracePeriodSeconds: 0 }).catch(() => undefined);
      killRounds.push(row);
      await sleep(2000);
    }

    const etcdRounds: EtcdRound[] = [];
    for (let r = 0; r < opts.etcdRounds; r++) {
      const tls = {
        caPem: readFileSync(join(s1.dataDir, 'tls', 'ca.crt'), 'utf8'),
        certPem: readFileSync(join(etcdPaths(s1.dataDir).tls, 'client.crt'), 'utf8'),
        keyPem: readFileSync(join(etcdPaths(s1.dataDir).tls, 'client.key'), 'utf8'),
      };
      const urlOf = (s: HaServerProcess): string => s.ready?.etcd?.clientUrl ?? '';
      const all = openEtcdAdmin({ endpoints: servers.map(urlOf), tls });
      const leaderName = (await until(async () => (await all.memberStatuses()).find((m) => m.isLeader)?.name, 30_000, 200));
      all.close();
      const victim = servers.find((s) => s.name === leaderName);
      if (!victim) throw new Error(`etcd round ${r}: no leader found`);
      const pid = Number(readFileSync(etcdPaths(victim.dataDir).pid, 'utf8').trim());
      process.stderr.write(`etcd round ${r + 1}/${opts.etcdRounds}: kill -9 the etcd leader (member ${victim.name}, pid ${pid})\n`);
      // Re-elected: a survivor names a leader in a later raft term than before the kill (the
      // killed member, restarted by its supervisor, may win again: that counts too).
      const survivors = servers.filter((s) => s !== victim).map((s) => new Etcd3({
        hosts: [urlOf(s)], credentials: { rootCertificate: Buffer.from(tls.caPem), certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) },
      }));
      const termOf = async (c: Etcd3): Promise<{ term: bigint; leader: string }> => {
        const st = await c.maintenance.status({ deadline: Date.now() + 500 });
        return { term: BigInt(st.raftTerm), leader: st.leader };
      };
      const termBefore = (await Promise.all(survivors.map((c) => termOf(c).catch(() => ({ term: 0n, leader: '0' }))))).reduce((m, t) => (t.term > m ? t.term : m), 0n);
      const t0 = Date.now();
      process.kill(pid, 'SIGKILL');
      const row: EtcdRound = { victim: victim.name, gapLbMs: 0, gapBalancerMs: 0, timedOut: [] };
      const elected = await until(async () => {
        const seen = await Promise.all(survivors.map((c) => termOf(c).catch(() => undefined)));
        return seen.some((t) => t !== undefined && t.leader !== '0' && t.term > termBefore) || undefined;
      }, ROUND_TIMEOUT_MS, 25);
      for (const c of survivors) c.close();
      if (elected) row.reelectionMs = Date.now() - t0;
      else row.timedOut.push('etcd re-election');
      await sleep(5000);
      const windowEnd = Date.now();
      // The server's supervisor restarts its member.
      if (!(await waitHealthy())) row.timedOut.push('member back');
      row.gapLbMs = longestGap(viaLb.acks, t0, windowEnd, Date.now());
      row.gapBalancerMs = longestGap(viaBalancer.acks, t0, windowEnd, Date.now());
      etcdRounds.push(row);
    }

    await viaLb.stop();
    await viaBalancer.stop();
    await sleep(2000);
    sampling = false;
    await sampler;

    const present = new Set<string>();
    let cont: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const l = await lbClient.list<KubeObject>(CONFIGMAPS, 'default', { limit: 1000, ...(cont ? { continue: cont } : {}) });
      for (const c of l.items) if (c.metadata?.name) present.add(c.metadata.name);
      cont = l.continue;
      if (!cont) break;
    }
    const acked = [...viaLb.acks, ...viaBalancer.acks];
    const lost = acked.filter((a) => !present.has(a.name)).map((a) => a.name);
    const steadyAtEnd = await activeSteady();

    process.stderr.write('balancer cost: creates through trireme lb (3 servers) vs one server directly…\n');
    const direct = new ApiClient({ ...admin, server: s1.url }, { requestTimeoutMs: 15_000 });
    closers.push(() => direct.close());
    const createLoop = (client: ApiClient, prefix: string): Promise<LoopResult> => runClosedLoop({
      concurrency: 8, durationMs: 8_000, warmupMs: 2_000, maxOps: 200_000,
      op: async (seq) => { await client.create(CONFIGMAPS, 'default', { metadata: { name: `${prefix}-${seq}` }, data: { v: 'x' } } as KubeObject); },
    });
    const throughLb = await createLoop(lbClient, 'cost-lb');
    const directly = await createLoop(direct, 'cost-direct');

    const gapsLb = killRounds.map((k) => k.gapLbMs);
    const gapsBal = killRounds.map((k) => k.gapBalancerMs);
    const reelect = etcdRounds.flatMap((e) => (e.reelectionMs === undefined ? [] : [e.reelectionMs]));
    const cm = killRounds.flatMap((k) => (k.newControllerManagerMs === undefined ? [] : [k.newControllerManagerMs]));
    const sched = killRounds.flatMap((k) => (k.newSchedulerMs === undefined ? [] : [k.newSchedulerMs]));
    const pods = killRounds.flatMap((k) => (k.podRunningMs === undefined ? [] : [k.podRunningMs]));
    const floor = median(reelect);
    const gapMedian = median([...gapsLb, ...gapsBal]);
    const goals = [
      { name: 'median write gap ≤ etcd re-election + 0.5 s', unit: 'ms', value: gapMedian, target: floor === undefined ? undefined : floor + 500, met: gapMedian !== undefined && floor !== undefined && gapMedian <= floor + 500 },
      { name: 'new controller manager ≤ 3 s median', unit: 'ms', value: median(cm), target: 3000, met: (median(cm) ?? Infinity) <= 3000 },
      { name: 'new scheduler ≤ 3 s median', unit: 'ms', value: median(sched), target: 3000, met: (median(sched) ?? Infinity) <= 3000 },
      { name: '0 acknowledged writes lost', unit: 'count', value: lost.length, target: 0, met: lost.length === 0 },
      { name: '0 duplicate pods', unit: 'count', value: Math.max(0, maxSteady - STEADY_REPLICAS), target: 0, met: maxSteady <= STEADY_REPLICAS && steadyAtEnd === STEADY_REPLICAS },
    ];
    const results = {
      benchmark: 'failover', startedAt, options: opts, machine: machine(loadStart),
      killRounds, etcdRounds,
      summary: {
        writeGapLbMs: stat(gapsLb), writeGapBalancerMs: stat(gapsBal), etcdReelectionMs: stat(reelect),
        newControllerManagerMs: stat(cm), newSchedulerMs: stat(sched), podRunningMs: stat(pods),
        acknowledged: acked.length, lost: lost.length, lostNames: lost.slice(0, 50),
        failedWrites: viaLb.failures + viaBalancer.failures, firstFailure: viaLb.firstFailure ?? viaBalancer.firstFailure,
        steadyReplicas: STEADY_REPLICAS, maxSteadyPods: maxSteady, steadyPodsAtEnd: steadyAtEnd,
      },
      balancerCost: {
        throughLb: { opsPerSec: round(throughLb.opsPerSec, 1), latency: throughLb.latency, errors: throughLb.errors },
        direct: { opsPerSec: round(directly.opsPerSec, 1), latency: directly.latency, errors: directly.errors },
        rateRatio: round(throughLb.opsPerSec / Math.max(1e-9, directly.opsPerSec), 3),
      },
      goals,
    };
    const dir = resultsDir();
    mkdirSync(dir, { recursive: true });
    const text = `${JSON.stringify(results, null, 2)}\n`;
    const file = join(dir, `failover-${startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, text);
    writeFileSync(join(dir, 'failover-latest.json'), text);

    const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : `${(v / 1000).toFixed(2)} s`);
    const line = (name: string, s: { n: number; medianMs?: number; worstMs?: number }): string => `  ${name.padEnd(34)} median ${ms(s.medianMs).padStart(8)}  worst ${ms(s.worstMs).padStart(8)}  (n=${s.n})`;
    const out = [
      `failover: ${killRounds.length} server kills, ${etcdRounds.length} etcd-leader kills, ${opts.ratePerSec} writes/s per writer (load ${round(loadStart, 2)} → ${round(loadavg()[0] ?? 0, 2)})`,
      line('write gap via trireme lb', results.summary.writeGapLbMs),
      line('write gap via client balancer', results.summary.writeGapBalancerMs),
      line('etcd re-election (floor)', results.summary.etcdReelectionMs),
      line('new controller manager', results.summary.newControllerManagerMs),
      line('new scheduler', results.summary.newSchedulerMs),
      line('pod created at kill → Running', results.summary.podRunningMs),
      `  acknowledged ${acked.length}, lost ${lost.length}, failed attempts ${results.summary.failedWrites}; steady pods max ${maxSteady} (replicas ${STEADY_REPLICAS}), at end ${steadyAtEnd}`,
      `  creates c=8: through trireme lb ${results.balancerCost.throughLb.opsPerSec}/s p99 ${round(throughLb.latency.p99Ms, 1)} ms; one server directly ${results.balancerCost.direct.opsPerSec}/s p99 ${round(directly.latency.p99Ms, 1)} ms (ratio ${results.balancerCost.rateRatio})`,
      ...goals.map((g) => `  ${g.met ? 'MET ' : 'FAIL'} ${g.name}: ${g.unit === 'ms' ? ms(g.value) : String(g.value)}`),
      `results: ${file}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    for (const c of closers) { try { c(); } catch { /* closing */ } }
    for (const p of others) await p.stop(5_000).catch(() => undefined);
    for (const s of servers) if (s.running()) await s.stop().catch(() => undefined);
    tracker.killAll();
    // The agents' container shims are detached by design: end what they leave behind.
    for (const dir of agentDirs) sweepContainers(dir);
    rmSync(root, { recursive: true, force: true });
  }
}
