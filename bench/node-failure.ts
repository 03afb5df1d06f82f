// Node-failure benchmark: one `trireme server` (127.0.27.1, no local agent, default node
// lifecycle timings, DNS add-on off) and three `trireme agent`s (127.0.27.11-13) on this
// machine, a Deployment of 6 small HTTP servers behind a ClusterIP Service (127.27.0.0/16).
// Everything below runs once per Service proxy mode (`--modes`, default `userspace,nftables`):
// the three agents are (re)started with `--proxy-mode <mode>` on their data dirs (their
// containers keep running), and the mode is checked before it is measured (userspace: the lock
// holder listens on the ClusterIP; nftables: nobody does, and the ClusterIP still answers).
//  1. Proxy cost, no failures: an open loop at --rate req/s over --connections keep-alive
//     connections, through the ClusterIP (served by the agent holding the proxy machine lock:
//     its listener in userspace mode, the kernel rules it writes in nftables mode) and straight
//     to the pods (connections spread over the 6 pod addresses), in alternating slices; p50/p99
//     of each and the difference. Then closed loops (the same connections, back to back) through
//     each: requests/s proxied versus direct.
//  2. Rounds of kill -9 of an agent with its pods (the one with the most web pods among those
//     not holding the proxy machine lock, so the load's path survives) under the same open-loop
//     load on the ClusterIP, each measuring from the kill: the node seen Unknown, every one of its
//     pods marked for deletion (evicted), and the Deployment fully Ready again (6 Ready pods, none
//     on the dead node); and the request success rate from the kill until 1 s after fully Ready.
//     The killed agent is then started again on its data dir, and the next round waits for 6
//     Ready pods and no leftovers. Skipped with --latency-only.
// Writes bench/results/node-failure-<ts>.json and node-failure-latest.json; prints a summary
// with one block per mode.
// Usage: npm run bench -- node-failure [--rounds N] [--rate R] [--connections C] [--pairs P]
//   [--modes userspace,nftables] [--latency-only] [--quick]
// Guarantees: bounded (every wait has a timeout; a round that times out is recorded as such and
// the run goes on); every process is killed at the end, the agents' containers included; a mode
// that cannot run here (nftables without root or nft) is reported as skipped with the reason.
// Does not: assert anything (the summary judges the goals); measure a machine losing power (the
// kill -9 of the agent and its containers is the stand-in: their sockets are closed by the kernel,
// so connects to the dead pods are refused rather than left unanswered); interleave the modes
// (they run one after the other, so load drift between them is not cancelled out).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import http from 'node:http';
import { join } from 'node:path';
import type { Endpoints, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../src/api/object.js';
import { ApiClient } from '../src/client/api-client.js';
import { loadKubeconfig } from '../src/client/config.js';
import { resource } from '../src/client/resources.js';
import { launchCli, type LaunchedProcess } from '../src/launch/cli-process.js';
import { NftCommand, probeNft } from '../src/agent/proxy/nft.js';
import { clusterTable, deleteScript, nodeTable } from '../src/agent/proxy/nft-ruleset.js';
import { listenerOwner, listeningInodes, machineLockHolder } from '../src/launch/socket-owner.js';
import { sweepContainers } from './lib/agent-cluster.js';
import type { HttpTarget, RequestLog } from './lib/http-load.js';
import { startLoad } from './lib/http-load-driver.js';
import { cliMain, repoRoot, resultsDir } from './lib/paths.js';
import { machine, round } from './lib/report.js';
import { median, sleep, stat, until } from './lib/rounds.js';
import { benchTracker, startCliServer } from './lib/server-process.js';
import { summarize, type LatencySummary } from './lib/stats.js';

const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const SERVICES = resource('', 'services');
const ENDPOINTS = resource('', 'endpoints');
const DEPLOYMENTS = resource('apps', 'deployments');

const SERVER_IP = '127.0.27.1';
const AGENT_IPS = ['127.0.27.11', '127.0.27.12', '127.0.27.13'];
const SERVICE_RANGE = '127.27.0.0/16';
const REPLICAS = 6;
const ROUND_TIMEOUT_MS = 90_000;
const SERVICE_PORT = 80;

type Mode = 'userspace' | 'nftables';
const MODES: readonly Mode[] = ['userspace', 'nftables'];

interface Options {
  rounds: number;
  ratePerSec: number;
  connections: number;
  /** Proxy cost: pairs of slices (one proxied, one direct, in turn). */
  pairs: number;
  /** Measured length of each proxy-cost slice (after a 0.5 s warm-up). */
  sliceMs: number;
  /** The proxy modes measured, in this order. */
  modes: Mode[];
  /** Proxy cost and throughput only, no kill rounds. */
  latencyOnly: boolean;
}

function parseArgs(args: string[]): Options | string {
  const o: Options = { rounds: 5, ratePerSec: 1000, connections: 32, pairs: 12, sliceMs: 2_500, modes: [...MODES], latencyOnly: false };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--quick') { o.pairs = 4; continue; }
    if (flag === '--latency-only') { o.latencyOnly = true; continue; }
    if (flag === '--modes') {
      const list = (args[++i] ?? '').split(',').filter((m) => m !== '');
      const bad = list.find((m) => !(MODES as readonly string[]).includes(m));
      if (list.length === 0 || bad !== undefined) return `--modes takes a comma-separated list of ${MODES.join(', ')}${bad === undefined ? '' : `, not ${bad}`}`;
      o.modes = [...new Set(list as Mode[])];
      continue;
    }
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 1) return `${flag} needs a whole number ≥ 1`;
    if (flag === '--rounds') o.rounds = v;
    else if (flag === '--rate') o.ratePerSec = v;
    else if (flag === '--connections') o.connections = v;
    else if (flag === '--pairs') o.pairs = v;
    else return `unknown flag ${flag}`;
  }
  return o;
}

interface Round {
  round: number;
  victim: string;
  victimPods: number;
  /** Kill → the node's Ready condition seen Unknown. */
  nodeUnknownMs?: number;
  /** Kill → every pod of the node marked for deletion (or gone). */
  evictedMs?: number;
  /** Kill → 6 Ready pods, none on the dead node. */
  readyAgainMs?: number;
  requests: number;
  failed: number;
  successPct: number;
  firstErrors: string[];
  /** Restart of the killed agent → its Node Ready and 6 Ready pods, no leftovers. */
  rejoinMs?: number;
  timedOut: string[];
}

const podReady = (p: Pod): boolean => p.metadata?.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Latencies of the successful requests due in [from, to), and the counts. */
function windowOf(log: RequestLog, from: number, to: number): { ok: number; failed: number; latencies: number[] } {
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  for (let i = 0; i < log.dueMs.length; i++) {
    const t = log.dueMs[i] as number;
    if (t < from || t >= to) continue;
    if (log.ok[i]) {
      ok++;
      latencies.push(log.latencyMs[i] as number);
    } else failed++;
  }
  return { ok, failed, latencies };
}

function webDeployment(): KubeObject {
  const script = [
    "const http = require('node:http');",
    "process.on('SIGTERM', () => process.exit(0));",
    "http.createServer((req, res) => res.end('ok ' + process.env.POD_NAME + '\\n')).listen(Number(process.env.PORT_HTTP), process.env.POD_IP);",
  ].join('\n');
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: {
      replicas: REPLICAS, selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'web', image: 'node:20', command: ['node', '-e', script],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
          }],
        },
      },
    },
  } as KubeObject;
}

interface AgentProc {
  name: string;
  ip: string;
  dataDir: string;
  logFile: string;
  kubeletPort: number;
  proc: LaunchedProcess | undefined;
}

type Lat = Record<'count' | 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs', number>;
const lat = (l: LatencySummary): Lat => ({ count: l.count, p50Ms: round(l.p50Ms, 3), p90Ms: round(l.p90Ms, 3), p99Ms: round(l.p99Ms, 3), maxMs: round(l.maxMs, 3) });

interface ProxyCost {
  ratePerSec: number;
  connections: number;
  proxied: Lat & { failed: number };
  direct: Lat & { failed: number };
  pairs: number;
  sliceMs: number;
  overheadP50Ms: number;
  overheadP99Ms: number;
  pooledOverheadP50Ms: number;
  pooledOverheadP99Ms: number;
  pairDiffP99Ms: number[];
}

interface Throughput {
  proxied: { reqPerSec: number; failed: number; latency: Lat };
  direct: { reqPerSec: number; failed: number; latency: Lat };
  ratio: number;
}

interface KillSummary {
  nodeUnknownMs: ReturnType<typeof stat>;
  evictedMs: ReturnType<typeof stat>;
  readyAgainMs: ReturnType<typeof stat>;
  requests: number;
  failed: number;
  successPct: number;
  worstRoundSuccessPct: number;
}

interface Goal { name: string; unit: string; value: number | undefined; target: number; met: boolean }

type ModeResult =
  | { mode: Mode; skipped: string }
  | { mode: Mode; check: string; proxyCost: ProxyCost; throughput: Throughput; rounds: Round[]; summary?: KillSummary; goals: Goal[] };

const WARMUP_MS = 500;

/** Alternating paced slices, proxied and direct, at the same rate: their latencies and paired differences. */
async function measureProxyCost(opts: Options, viaProxy: HttpTarget[], direct: HttpTarget[]): Promise<ProxyCost> {
  const base = { connections: opts.connections, timeoutMs: 5_000 };
  const sliceLatencies = { proxied: [] as number[], direct: [] as number[] };
  const sliceCounts = { proxied: { ok: 0, failed: 0 }, direct: { ok: 0, failed: 0 } };
  // Per pair: proxied minus direct p50 and p99. On a shared machine the load drifts within
  // seconds; short alternating slices see about the same load, so their differences are the
  // proxy's cost rather than the neighbours'.
  const pairDiffs = { p50: [] as number[], p99: [] as number[] };
  for (let s = 0; s < opts.pairs; s++) {
    const pair: Partial<Record<'proxied' | 'direct', LatencySummary>> = {};
    for (const path of (s % 2 === 0 ? ['proxied', 'direct'] : ['direct', 'proxied']) as ('proxied' | 'direct')[]) {
      const log = await startLoad({
        mode: 'paced',
        options: { ...base, targets: path === 'proxied' ? viaProxy : direct, ratePerSec: opts.ratePerSec, durationMs: opts.sliceMs + WARMUP_MS, maxRequests: opts.ratePerSec * 120 },
      }).done;
      const from = (log.dueMs[0] ?? 0) + WARMUP_MS;
      const w = windowOf(log, from, Infinity);
      sliceLatencies[path].push(...w.latencies);
      sliceCounts[path].ok += w.ok;
      sliceCounts[path].failed += w.failed;
      pair[path] = summarize(w.latencies);
    }
    if (pair.proxied && pair.direct) {
      pairDiffs.p50.push(pair.proxied.p50Ms - pair.direct.p50Ms);
      pairDiffs.p99.push(pair.proxied.p99Ms - pair.direct.p99Ms);
    }
  }
  const latProxied = summarize(sliceLatencies.proxied);
  const latDirect = summarize(sliceLatencies.direct);
  // The goal is judged on the median of the paired differences (pooled ones are kept too).
  return {
    ratePerSec: opts.ratePerSec, connections: opts.connections,
    proxied: { ...lat(latProxied), failed: sliceCounts.proxied.failed }, direct: { ...lat(latDirect), failed: sliceCounts.direct.failed },
    pairs: opts.pairs, sliceMs: opts.sliceMs,
    overheadP50Ms: round(median(pairDiffs.p50) ?? Number.NaN, 3), overheadP99Ms: round(median(pairDiffs.p99) ?? Number.NaN, 3),
    pooledOverheadP50Ms: round(latProxied.p50Ms - latDirect.p50Ms, 3), pooledOverheadP99Ms: round(latProxied.p99Ms - latDirect.p99Ms, 3),
    pairDiffP99Ms: pairDiffs.p99.map((d) => round(d, 3)),
  };
}

/** Closed loops of 5 s, proxied, direct, direct, proxied (the same load drift on both sides). */
async function measureThroughput(opts: Options, viaProxy: HttpTarget[], direct: HttpTarget[]): Promise<Throughput> {
  const base = { connections: opts.connections, timeoutMs: 5_000 };
  const closed = async (targets: HttpTarget[]): Promise<{ reqPerSec: number; failed: number; latency: LatencySummary }> => {
    const durationMs = 5_000;
    const log = await startLoad({ mode: 'closed', options: { ...base, targets, durationMs: durationMs + WARMUP_MS, maxRequests: 5_000_000 } }).done;
    const from = (log.dueMs[0] ?? 0) + WARMUP_MS;
    const w = windowOf(log, from, Infinity);
    return { reqPerSec: w.ok / (durationMs / 1000), failed: w.failed, latency: summarize(w.latencies) };
  };
  const tp = [await closed(viaProxy), await closed(direct), await closed(direct), await closed(viaProxy)];
  const both = (a: typeof tp[number], b: typeof tp[number]): { reqPerSec: number; failed: number; latency: Lat } => ({
    reqPerSec: round((a.reqPerSec + b.reqPerSec) / 2, 1), failed: a.failed + b.failed, latency: lat(a.latency.p99Ms > b.latency.p99Ms ? a.latency : b.latency),
  });
  const proxied = both(tp[0]!, tp[3]!);
  const directTp = both(tp[1]!, tp[2]!);
  return { proxied, direct: directTp, ratio: round(proxied.reqPerSec / Math.max(1e-9, directTp.reqPerSec), 3) };
}

export async function main(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    process.stderr.write(`node-failure: ${opts}\n`);
    return 2;
  }
  const loadStart = loadavg()[0] ?? 0;
  const startedAt = new Date().toISOString();
  const tracker = benchTracker();
  const root = mkdtempSync(join(tmpdir(), 'trireme-bench-node-failure-'));
  const entry = cliMain();
  const cwd = repoRoot();
  const agents: AgentProc[] = AGENT_IPS.map((ip, i) => ({
    name: `a${i + 1}`, ip, dataDir: join(root, `a${i + 1}`), logFile: join(root, `a${i + 1}.log`), kubeletPort: 0, proc: undefined,
  }));
  const closers: (() => void)[] = [];
  let stopServer: (() => Promise<void>) | undefined;
  let clusterKey: string | undefined;
  try {
    const nft = opts.modes.includes('nftables') ? await probeNft() : { ok: true as const };
    process.stderr.write('starting the server…\n');
    const server = await startCliServer({
      cliMain: entry, tracker, dataDir: join(root, 'server'), host: SERVER_IP, logFile: join(root, 'server.log'), subcommand: 'server',
      extraArgs: ['--disable-agent', '--disable-dns', '--service-cluster-ip-range', SERVICE_RANGE, '--service-node-port-range', '32600-32699'],
    });
    stopServer = () => server.stop(5_000);
    const token = readFileSync(join(root, 'server', 'token'), 'utf8').trim();
    const client = new ApiClient(loadKubeconfig(server.kubeconfigPath), { requestTimeoutMs: 10_000 });
    closers.push(() => client.close());

    const nodeReady = async (name: string): Promise<string | undefined> =>
      (await client.get<Node & KubeObject>(NODES, undefined, name)).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    let mode: Mode = opts.modes[0] ?? 'userspace';
    const startAgentProc = async (a: AgentProc): Promise<void> => {
      const i = agents.indexOf(a);
      const from = 27_050 + i * 50;
      a.proc = await launchCli({
        entry, cwd, tracker, dataDir: a.dataDir, logFile: a.logFile, readyTimeoutMs: 120_000,
        args: ['agent', '--server', server.url, '--data-dir', a.dataDir, '--node-name', a.name, '--node-ip', a.ip,
          '--kubelet-port', String(a.kubeletPort), '--port-range', `${from}-${from + 49}`, '--proxy-mode', mode, '--token', token],
        extraReady: async (r) => r.kubelet !== undefined,
      });
      a.kubeletPort = a.proc.ready.kubelet?.port ?? a.kubeletPort;
      if ((await until(async () => ((await nodeReady(a.name)) === 'True' ? true : undefined), 60_000, 200)) !== true) {
        throw new Error(`node ${a.name} not Ready after its start`);
      }
    };
    const agentPids = (): number[] => agents.flatMap((a) => (a.proc?.running() === true ? [a.proc.pid] : []));
    /** The agent holding the proxy machine lock: it serves the ClusterIPs, in either mode. */
    const holder = (): AgentProc | undefined => {
      if (clusterKey === undefined) return undefined;
      const pid = machineLockHolder(clusterKey, agentPids());
      return agents.find((a) => a.proc?.pid === pid);
    };

    const webPods = async (): Promise<Pod[]> => (await client.list<Pod & KubeObject>(PODS, 'default', { labelSelector: 'app=web' })).items;
    const readyEndpoints = async (): Promise<HttpTarget[]> => {
      const ep = await client.get<Endpoints & KubeObject>(ENDPOINTS, 'default', 'web');
      return (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).map((p) => ({ host: a.ip, port: p.port }))));
    };
    const settle = async (): Promise<void> => {
      const settled = await until(async () => {
        const pods = await webPods();
        return pods.length === REPLICAS && pods.every(podReady) && (await readyEndpoints()).length === REPLICAS ? true : undefined;
      }, 120_000, 200);
      if (settled !== true) throw new Error('the web Deployment did not become Ready');
    };

    let clusterIp = '';
    /** Kill rounds under steady load on the ClusterIP. */
    const killRounds = async (m: Mode): Promise<Round[]> => {
      process.stderr.write(`mode ${m}: kill rounds: ${opts.rounds}, load ${opts.ratePerSec} req/s on the ClusterIP…\n`);
      // Connections are renewed every 100 requests (~3 s each at 1,000 req/s over 32), so the
      // replacements and the returning node's pods get traffic too and every kill cuts some.
      const viaProxy: HttpTarget[] = [{ host: clusterIp, port: SERVICE_PORT }];
      const load = startLoad({ mode: 'paced', options: { connections: opts.connections, timeoutMs: 5_000, requestsPerConnection: 100, targets: viaProxy, ratePerSec: opts.ratePerSec, durationMs: 60 * 60_000, maxRequests: opts.ratePerSec * 3600 } });
      let stopped = false;
      const stop = async (): Promise<RequestLog> => {
        stopped = true;
        return load.stop();
      };
      closers.push(() => { if (!stopped) void load.stop(); });
      await sleep(2_000);
      const rounds: Round[] = [];
      const windows: { from: number; to: number }[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        const pods = await webPods();
        const onNode = (a: AgentProc): Pod[] => pods.filter((p) => p.spec?.nodeName === a.name);
        const h = holder();
        const victim = agents.filter((a) => a !== h && a.proc?.running() === true).sort((x, y) => onNode(y).length - onNode(x).length)[0];
        if (victim === undefined) throw new Error(`round ${r}: no agent to kill`);
        const victimUids = new Set(onNode(victim).map((p) => p.metadata?.uid));
        const row: Round = { round: r, victim: victim.name, victimPods: victimUids.size, requests: 0, failed: 0, successPct: 0, firstErrors: [], timedOut: [] };
        process.stderr.write(`mode ${m}: round ${r + 1}/${opts.rounds}: kill -9 ${victim.name} (${victimUids.size} web pods; the ClusterIP is served by ${h?.name ?? '?'})\n`);
        const t0 = Date.now();
        victim.proc?.kill();
        sweepContainers(victim.dataDir);
        // What the polls last saw, for a round that times out.
        let lastSeen = { ready: undefined as string | undefined, error: undefined as string | undefined };
        const done = await until(async () => {
          const now = Date.now();
          let ready: string | undefined;
          try {
            ready = await nodeReady(victim.name);
          } catch (e) {
            lastSeen = { ...lastSeen, error: (e as Error).message.split('\n')[0] };
            throw e;
          }
          lastSeen = { ...lastSeen, ready };
          if (row.nodeUnknownMs === undefined && ready === 'Unknown') row.nodeUnknownMs = now - t0;
          const all = await webPods();
          if (row.evictedMs === undefined && all.filter((p) => victimUids.has(p.metadata?.uid)).every((p) => p.metadata?.deletionTimestamp !== undefined)) row.evictedMs = now - t0;
          if (row.readyAgainMs === undefined && all.filter((p) => podReady(p) && p.spec?.nodeName !== victim.name).length === REPLICAS) row.readyAgainMs = now - t0;
          return row.nodeUnknownMs !== undefined && row.evictedMs !== undefined && row.readyAgainMs !== undefined ? true : undefined;
        }, ROUND_TIMEOUT_MS, 50);
        if (done !== true) {
          if (row.nodeUnknownMs === undefined) row.timedOut.push('node Unknown');
          if (row.evictedMs === undefined) row.timedOut.push('eviction');
          if (row.readyAgainMs === undefined) row.timedOut.push('Ready again');
          row.timedOut.push(`last seen: node Ready=${lastSeen.ready ?? '?'}, victim process ${victim.proc?.running() === true ? 'running' : 'exited'}${lastSeen.error === undefined ? '' : `, last poll error: ${lastSeen.error}`}`);
        }
        const windowEnd = t0 + (row.readyAgainMs ?? ROUND_TIMEOUT_MS) + 1_000;
        windows.push({ from: t0, to: windowEnd });
        await sleep(Math.max(0, windowEnd - Date.now()));
        // The node comes back: started again on its data dir; its deleted pods are cleaned up.
        const tRejoin = Date.now();
        try {
          await startAgentProc(victim);
          const clean = await until(async () => {
            const all = await webPods();
            return all.length === REPLICAS && all.every(podReady) ? true : undefined;
          }, ROUND_TIMEOUT_MS, 200);
          if (clean === true) row.rejoinMs = Date.now() - tRejoin;
          else row.timedOut.push('rejoin');
        } catch (e) {
          row.timedOut.push(`rejoin: ${(e as Error).message.split('\n')[0] ?? ''}`);
        }
        rounds.push(row);
        await sleep(2_000);
      }
      const killLog = await stop();
      for (const [i, row] of rounds.entries()) {
        const w = windowOf(killLog, windows[i]?.from ?? 0, windows[i]?.to ?? 0);
        row.requests = w.ok + w.failed;
        row.failed = w.failed;
        row.successPct = round((100 * w.ok) / Math.max(1, row.requests), 3);
        const from = windows[i]?.from ?? 0;
        row.firstErrors = killLog.errors.filter((e) => Date.parse(e.slice(0, 24)) >= from).slice(0, 5);
      }
      return rounds;
    };

    const results: ModeResult[] = [];
    for (const [mi, m] of opts.modes.entries()) {
      if (m === 'nftables' && !nft.ok) {
        process.stderr.write(`mode nftables skipped: ${nft.reason}\n`);
        results.push({ mode: m, skipped: nft.reason });
        continue;
      }
      mode = m;
      // (Re)start the agents in this mode; their containers keep running across the restart.
      process.stderr.write(`mode ${m}: ${mi === 0 ? 'starting' : 'restarting'} three agents with --proxy-mode ${m}…\n`);
      for (const a of agents) await a.proc?.stop(10_000).catch(() => undefined);
      for (const a of agents) await startAgentProc(a);
      clusterKey ??= readFileSync(join(agents[0]?.dataDir ?? '', 'agent', 'credentials', 'ca.crt'), 'utf8');
      if (clusterIp === '') {
        await client.create(DEPLOYMENTS, 'default', webDeployment());
        await client.create(SERVICES, 'default', {
          apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
          spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http' }] },
        } as KubeObject);
        clusterIp = (await client.get<Service & KubeObject>(SERVICES, 'default', 'web')).spec?.clusterIP ?? '';
      }
      await settle();
      const viaProxy: HttpTarget[] = [{ host: clusterIp, port: SERVICE_PORT }];
      const direct = await readyEndpoints();
      // The mode serves: a lock holder, the ClusterIP answering 20 times in a row, and the data
      // plane the one asked for (userspace: the holder listens on it; nftables: nobody does).
      const check = await until(async () => {
        const h = holder();
        if (h === undefined) return undefined;
        for (let k = 0; k < 20; k++) if (!(await httpOk(clusterIp, SERVICE_PORT))) return undefined;
        const listener = listenerOwner('TCP', clusterIp, SERVICE_PORT, agentPids());
        if (m === 'userspace' && listener === h.proc?.pid) return `${h.name} holds the lock and listens on ${clusterIp}:${SERVICE_PORT}`;
        if (m === 'nftables' && nobodyListens(clusterIp, SERVICE_PORT)) return `${h.name} holds the lock; nobody listens on ${clusterIp}:${SERVICE_PORT} (kernel DNAT)`;
        return undefined;
      }, 30_000, 200);
      if (check === undefined) throw new Error(`mode ${m}: the ClusterIP ${clusterIp}:${SERVICE_PORT} is not served as the mode says`);
      process.stderr.write(`mode ${m}: ${check}\n`);

      process.stderr.write(`mode ${m}: proxy cost, ${opts.ratePerSec} req/s, ${opts.connections} connections, ClusterIP vs the 6 pods directly…\n`);
      const proxyCost = await measureProxyCost(opts, viaProxy, direct);
      process.stderr.write(`mode ${m}: throughput, closed loops, proxied vs direct…\n`);
      const throughput = await measureThroughput(opts, viaProxy, direct);
      const goals: Goal[] = [
        { name: `proxy p99 overhead ≤ 1 ms at ${opts.ratePerSec} req/s`, unit: 'ms', value: proxyCost.overheadP99Ms, target: 1, met: proxyCost.overheadP99Ms <= 1 },
      ];
      if (opts.latencyOnly) {
        results.push({ mode: m, check, proxyCost, throughput, rounds: [], goals });
        continue;
      }
      const rounds = await killRounds(m);
      const summary = summarizeRounds(rounds);
      const ready = rounds.flatMap((r) => (r.readyAgainMs === undefined ? [] : [r.readyAgainMs]));
      goals.unshift(
        { name: 'fully Ready again ≤ 10 s median', unit: 'ms', value: median(ready), target: 10_000, met: ready.length === rounds.length && (median(ready) ?? Infinity) <= 10_000 },
        { name: 'request success ≥ 99 % during the window', unit: '%', value: summary.successPct, target: 99, met: summary.successPct >= 99 },
      );
      results.push({ mode: m, check, proxyCost, throughput, rounds, summary, goals });
    }

    const report = {
      benchmark: 'node-failure', startedAt, options: opts, machine: machine(loadStart),
      cluster: { server: SERVER_IP, agents: AGENT_IPS, replicas: REPLICAS, clusterIp, timings: 'defaults' },
      modes: results,
    };
    const dir = resultsDir();
    mkdirSync(dir, { recursive: true });
    const text = `${JSON.stringify(report, null, 2)}\n`;
    const file = join(dir, `node-failure-${startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, text);
    writeFileSync(join(dir, 'node-failure-latest.json'), text);
    process.stdout.write(`${formatSummary(opts, results, loadStart).join('\n')}\nresults: ${file}\n`);
    return 0;
  } finally {
    for (const c of closers) { try { c(); } catch { /* closing */ } }
    for (const a of agents) await a.proc?.stop(10_000).catch(() => undefined);
    await stopServer?.().catch(() => undefined);
    tracker.killAll();
    // The agents' container shims are detached by design: end what they leave behind.
    for (const a of agents) sweepContainers(a.dataDir);
    // A kill -9'd nftables-mode agent may leave its node table (the holder sweeps it, but the
    // last ones stop with the run): delete every table of this run's cluster.
    if (clusterKey !== undefined) await deleteClusterTables(clusterKey, AGENT_NAMES);
    rmSync(root, { recursive: true, force: true });
  }
}

const AGENT_NAMES = AGENT_IPS.map((_, i) => `a${i + 1}`);

async function deleteClusterTables(clusterKey: string, nodeNames: readonly string[]): Promise<void> {
  const nft = new NftCommand();
  for (const table of [clusterTable(clusterKey).table, ...nodeNames.map((n) => nodeTable(clusterKey, n).table)]) {
    await nft.apply(deleteScript(table)).catch(() => undefined);
  }
}

function summarizeRounds(rounds: Round[]): KillSummary {
  const unknown = rounds.flatMap((r) => (r.nodeUnknownMs === undefined ? [] : [r.nodeUnknownMs]));
  const evicted = rounds.flatMap((r) => (r.evictedMs === undefined ? [] : [r.evictedMs]));
  const ready = rounds.flatMap((r) => (r.readyAgainMs === undefined ? [] : [r.readyAgainMs]));
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const failed = rounds.reduce((n, r) => n + r.failed, 0);
  return {
    nodeUnknownMs: stat(unknown), evictedMs: stat(evicted), readyAgainMs: stat(ready), requests, failed,
    successPct: round((100 * (requests - failed)) / Math.max(1, requests), 3),
    worstRoundSuccessPct: rounds.length ? Math.min(...rounds.map((r) => r.successPct)) : 0,
  };
}

function formatSummary(opts: Options, results: ModeResult[], loadStart: number): string[] {
  const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : `${(v / 1000).toFixed(2)} s`);
  const line = (name: string, s: { n: number; medianMs?: number; worstMs?: number }): string => `    ${name.padEnd(30)} median ${ms(s.medianMs).padStart(8)}  worst ${ms(s.worstMs).padStart(8)}  (n=${s.n})`;
  const l2 = (l: Lat): string => `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms (n=${l.count})`;
  const out = [
    `node-failure: ${REPLICAS} replicas on 3 agents, ${opts.ratePerSec} req/s on the ClusterIP, proxy modes ${opts.modes.join(', ')}${opts.latencyOnly ? ' (latency only)' : `, ${opts.rounds} kills each`} (load ${round(loadStart, 2)} → ${round(loadavg()[0] ?? 0, 2)})`,
  ];
  for (const r of results) {
    if ('skipped' in r) {
      out.push(`  ${r.mode}: skipped (${r.skipped})`);
      continue;
    }
    out.push(`  ${r.mode}: ${r.check}`);
    if (r.summary) {
      const s = r.summary;
      out.push(
        line('node seen Unknown', s.nodeUnknownMs), line('its pods evicted', s.evictedMs), line('Deployment fully Ready again', s.readyAgainMs),
        `    requests from the kill to 1 s after Ready: ${s.requests - s.failed}/${s.requests} succeeded (${s.successPct} %; worst round ${s.worstRoundSuccessPct} %)`,
      );
    }
    const c = r.proxyCost;
    out.push(
      `    at ${opts.ratePerSec} req/s: through the ClusterIP ${l2(c.proxied)}; straight to the pods ${l2(c.direct)}`,
      `    proxy overhead, median of ${c.pairDiffP99Ms.length} paired slices: p50 ${c.overheadP50Ms} ms, p99 ${c.overheadP99Ms} ms (pooled: p50 ${c.pooledOverheadP50Ms} ms, p99 ${c.pooledOverheadP99Ms} ms)`,
      `    closed loop, ${opts.connections} connections: proxied ${r.throughput.proxied.reqPerSec} req/s, direct ${r.throughput.direct.reqPerSec} req/s (ratio ${r.throughput.ratio})`,
      ...r.goals.map((g) => `    ${g.met ? 'MET ' : 'FAIL'} ${g.name}: ${g.unit === 'ms' && g.name.startsWith('fully') ? ms(g.value) : `${String(g.value)} ${g.unit}`}`),
    );
  }
  return out;
}

/** One GET on a fresh connection answered 200. */
function httpOk(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

function nobodyListens(ip: string, port: number): boolean {
  return listeningInodes(readFileSync('/proc/net/tcp', 'utf8'), 'TCP', ip, port).size === 0;
}
