// Scheduler benchmark: the scheduling algorithm plus the bind path, end to end through a
// real `trireme apiserver` (a child process started like every benchmark server,
// bench/lib/server-process.ts; SQLite), with 100 and then 1,000 fake nodes (a Node with
// Ready condition and allocatable, and a Lease in kube-node-lease; no agent) and 5,000 pods.
// Two runs per cluster size:
//  - "concurrent": pods are created (64 at a time) while the scheduler runs — pods/s from
//    the first create to the last bind seen on a watch;
//  - "backlog": all pods exist first, then the scheduler starts — pods/s from scheduler start
//    to the last bind (the scheduler's own throughput, not limited by the create rate).
// Reports bound/s in steady state (10%→90% of binds), p50/p99 of the per-pod decision time
// (filter + score + select, measured inside the loop), and create→bound latency.
// Writes bench/results/scheduler-<ts>.json and scheduler-latest.json.
// Usage: npm run bench -- scheduler [--pods N] [--nodes 100,1000] [--binds 64]
// Guarantees: bounded (each run gives up 300 s after its last create); the server is stopped
// after each cluster size and killed on any exit.
// Does not: run controllers or agents: only the API server and the scheduler under test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildTracker } from '../src/launch/children.js';
import type { KubeObject } from '../src/api/object.js';
import { ApiClient } from '../src/client/api-client.js';
import { loadKubeconfig } from '../src/client/config.js';
import { Informer } from '../src/client/informer.js';
import { resource } from '../src/client/resources.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { isTriremeError } from '../src/errors.js';
import { cliMain, resultsDir } from './lib/paths.js';
import { machine, round } from './lib/report.js';
import { benchTracker, startCliServer } from './lib/server-process.js';
import { Samples, summarize, type LatencySummary } from './lib/stats.js';
import { kubeTime, microTime } from '../src/api/time.js';

const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const LEASES = resource('coordination.k8s.io', 'leases');
const NAMESPACES = resource('', 'namespaces');

interface SchedBenchOptions {
  pods: number;
  nodeCounts: number[];
  bindsInFlight: number;
}

const CREATE_CONCURRENCY = 64;

function parseArgs(args: string[]): SchedBenchOptions | string {
  const opts: SchedBenchOptions = { pods: 5000, nodeCounts: [100, 1000], bindsInFlight: 64 };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) return `${flag} needs a value`;
    if (flag === '--pods') opts.pods = Number(value);
    else if (flag === '--nodes') opts.nodeCounts = value.split(',').map(Number);
    else if (flag === '--binds') opts.bindsInFlight = Number(value);
    else return `unknown option ${flag}`;
  }
  const bad = [opts.pods, opts.bindsInFlight, ...opts.nodeCounts].some((n) => !Number.isInteger(n) || n <= 0);
  return bad ? 'counts must be positive integers' : opts;
}

interface ApiChild {
  kubeconfig: string;
  stop(): Promise<void>;
}

/** `trireme apiserver` on 127.0.0.1, port 0, a fresh data dir (removed on stop). */
async function startApi(tracker: ChildTracker): Promise<ApiChild> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trireme-bench-sched-'));
  const server = await startCliServer({
    cliMain: cliMain(), dataDir: join(dataDir, 'data'), host: '127.0.0.1', logFile: join(dataDir, 'server.log'), tracker,
    subcommand: 'apiserver', extraArgs: [],
  });
  return {
    kubeconfig: server.kubeconfigPath,
    stop: () => server.stop(10_000).finally(() => rmSync(dataDir, { recursive: true, force: true })),
  };
}

async function pool<T>(items: T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}

function fakeNode(name: string): KubeObject {
  const now = kubeTime(Date.now());
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    spec: {},
    status: {
      capacity: { cpu: '32', memory: '128Gi', pods: '110' },
      allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  };
}

async function registerNodes(client: ApiClient, count: number): Promise<void> {
  try {
    await client.create(NAMESPACES, undefined, { metadata: { name: 'kube-node-lease' } });
  } catch (err) {
    if (!isTriremeError(err, 'AlreadyExists')) throw err;
  }
  const names = Array.from({ length: count }, (_, i) => `node-${String(i).padStart(4, '0')}`);
  await pool(names, 32, async (name) => {
    const node = await client.create(NODES, undefined, fakeNode(name));
    // Node status is a subresource: make sure the Ready condition is there.
    if (!(node.status as { conditions?: unknown[] } | undefined)?.conditions?.length) {
      await client.update(NODES, undefined, { ...node, status: fakeNode(name).status }, { subresource: 'status' });
    }
    await client.create(LEASES, 'kube-node-lease', {
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(Date.now()) },
    });
  });
}

function benchPod(i: number, run: string): KubeObject {
  const name = `${run}-${String(i).padStart(5, '0')}`;
  return {
    metadata: {
      name, namespace: 'default', labels: { app: run },
      // A controller owner, as Deployment pods have: the spreading score runs on every pod.
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${run}-rs`, uid: `${run}-rs-uid`, controller: true }],
    },
    spec: { containers: [{ name: 'app', image: 'bench', command: ['sleep', 'infinity'], resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

interface RunResult {
  nodes: number;
  mode: 'concurrent' | 'backlog';
  pods: number;
  bound: number;
  createSeconds: number;
  createPerSec: number;
  /** first create → last bound (concurrent) or scheduler start → last bound (backlog). */
  endToEndSeconds: number;
  endToEndPodsPerSec: number;
  /** binds/s between 10% and 90% of the pods bound. */
  steadyBoundPerSec: number;
  decision: LatencySummary;
  createToBound: LatencySummary;
  bindErrors: number;
  unschedulableAttempts: number;
  nodesUsed: number;
  maxPodsOnANode: number;
}

async function run(o: SchedBenchOptions, kubeconfig: string, nodes: number, mode: 'concurrent' | 'backlog', runName: string): Promise<RunResult> {
  const POD_COUNT = o.pods;
  const BINDS_IN_FLIGHT = o.bindsInFlight;
  const cfg = loadKubeconfig(kubeconfig);
  const creator = new ApiClient(cfg, { maxSockets: CREATE_CONCURRENCY });
  const watcherClient = new ApiClient(cfg);
  const createdAt = new Map<string, number>();
  const boundAt = new Map<string, number>();
  const nodeOf = new Map<string, string>();
  let allBound: () => void = () => undefined;
  const done = new Promise<void>((r) => { allBound = r; });
  const watcher = new Informer<KubeObject>(watcherClient, PODS, { labelSelector: `app=${runName}` });
  const seen = (p: KubeObject) => {
    const name = p.metadata?.name ?? '';
    const node = (p.spec as { nodeName?: string } | undefined)?.nodeName;
    if (node && !boundAt.has(name)) {
      boundAt.set(name, performance.now());
      nodeOf.set(name, node);
      if (boundAt.size === POD_COUNT) allBound();
    }
  };
  watcher.on({ add: seen, update: (_o, p) => seen(p) });
  await watcher.start();

  const decisions = new Samples(POD_COUNT * 2);
  const schedClient = new ApiClient(cfg, { maxSockets: Math.max(32, BINDS_IN_FLIGHT) });
  const eventClient = new ApiClient(cfg, { maxSockets: 4 });
  const sched = new Scheduler({ client: schedClient, eventClient, maxBindsInFlight: BINDS_IN_FLIGHT, onDecision: (ms) => decisions.add(ms) });
  const startScheduler = async () => {
    const t = performance.now();
    await sched.start();
    return t;
  };

  let schedStart = 0;
  if (mode === 'concurrent') schedStart = await startScheduler();
  const createStart = performance.now();
  const indices = Array.from({ length: POD_COUNT }, (_, i) => i);
  await pool(indices, CREATE_CONCURRENCY, async (i) => {
    const body = benchPod(i, runName);
    createdAt.set(body.metadata?.name ?? '', performance.now());
    await creator.create(PODS, 'default', body);
  });
  const createEnd = performance.now();
  if (mode === 'backlog') schedStart = await startScheduler();
  const timeout = setTimeout(() => allBound(), 300_000);
  await done;
  clearTimeout(timeout);
  sched.stop();
  watcher.stop();
  for (const c of [creator, watcherClient, schedClient, eventClient]) c.close();

  const times = [...boundAt.values()].sort((a, b) => a - b);
  const last = times[times.length - 1] ?? Number.NaN;
  const from = mode === 'concurrent' ? createStart : schedStart;
  const p10 = times[Math.floor(times.length * 0.1)] ?? Number.NaN;
  const p90 = times[Math.floor(times.length * 0.9)] ?? Number.NaN;
  const lat = new Samples(POD_COUNT);
  for (const [name, t] of boundAt) {
    const c = createdAt.get(name);
    if (c !== undefined) lat.add(t - c);
  }
  const perNode = new Map<string, number>();
  for (const n of nodeOf.values()) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  return {
    nodes, mode, pods: POD_COUNT, bound: boundAt.size,
    createSeconds: round((createEnd - createStart) / 1000, 2),
    createPerSec: round(POD_COUNT / ((createEnd - createStart) / 1000), 1),
    endToEndSeconds: round((last - from) / 1000, 2),
    endToEndPodsPerSec: round(boundAt.size / ((last - from) / 1000), 1),
    steadyBoundPerSec: round((0.8 * times.length) / ((p90 - p10) / 1000), 1),
    decision: roundSummary(summarize(decisions.values())),
    createToBound: roundSummary(summarize(lat.values())),
    bindErrors: sched.stats.bindErrors,
    unschedulableAttempts: sched.stats.unschedulable,
    nodesUsed: perNode.size,
    maxPodsOnANode: Math.max(0, ...perNode.values()),
  };
}

function roundSummary(s: LatencySummary): LatencySummary {
  return { count: s.count, meanMs: round(s.meanMs, 3), p50Ms: round(s.p50Ms, 3), p90Ms: round(s.p90Ms, 3), p99Ms: round(s.p99Ms, 3), maxMs: round(s.maxMs, 3) };
}

/** `run.js scheduler [--pods N] [--nodes 100,1000] [--binds 64]`: run, print, write JSON. */
export async function main(args: string[]): Promise<number> {
  const o = parseArgs(args);
  if (typeof o === 'string') {
    process.stderr.write(`scheduler: ${o}\nusage: scheduler [--pods N] [--nodes 100,1000] [--binds 64]\n`);
    return 2;
  }
  const tracker = benchTracker();
  const load = loadavg()[0];
  const startedAt = new Date().toISOString();
  const results: RunResult[] = [];
  for (const nodes of o.nodeCounts) {
    // A fresh server per cluster size, so that each starts from an empty store.
    const api = await startApi(tracker);
    try {
      const admin = new ApiClient(loadKubeconfig(api.kubeconfig));
      const t = performance.now();
      await registerNodes(admin, nodes);
      admin.close();
      process.stdout.write(`registered ${nodes} nodes (+ leases) in ${round((performance.now() - t) / 1000, 1)} s\n`);
      for (const mode of ['concurrent', 'backlog'] as const) {
        const r = await run(o, api.kubeconfig, nodes, mode, `b${nodes}-${mode}`);
        results.push(r);
        process.stdout.write(`${nodes} nodes, ${mode}: ${r.bound}/${r.pods} bound, end to end ${r.endToEndPodsPerSec} pods/s `
          + `(steady ${r.steadyBoundPerSec}/s, creates ${r.createPerSec}/s), decision p50 ${r.decision.p50Ms} ms p99 ${r.decision.p99Ms} ms, `
          + `create→bound p50 ${r.createToBound.p50Ms} ms p99 ${r.createToBound.p99Ms} ms, ${r.nodesUsed} nodes used (max ${r.maxPodsOnANode} pods)\n`);
      }
    } finally {
      await api.stop();
    }
  }
  const at1000 = results.filter((r) => r.nodes === 1000);
  const best = Math.max(0, ...at1000.map((r) => r.endToEndPodsPerSec));
  const report = {
    benchmark: 'scheduler', startedAt, finishedAt: new Date().toISOString(), machine: machine(load),
    method: {
      server: 'trireme apiserver (SQLite store) as a child process on 127.0.0.1, port 0, HTTPS with the admin client certificate',
      scheduler: `src/scheduler Scheduler in the benchmark process (informers, queue, ${o.bindsInFlight} binds in flight, Scheduled events on a separate connection pool)`,
      nodes: 'fake: Node (Ready, allocatable cpu 32 / memory 128Gi / pods 110) + Lease in kube-node-lease, no agent',
      pods: `${o.pods} per run, requests cpu 100m / memory 128Mi, one controller owner (spreading active), created ${CREATE_CONCURRENCY} at a time`,
      boundDetection: 'a separate watch on the pods (first version with spec.nodeName)',
    },
    runs: results,
    goal: { target: '>= 500 pods/s end to end at 1,000 nodes', bestAt1000: best, met: best >= 500 },
  };
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 1)}\n`;
  writeFileSync(join(dir, `scheduler-${stamp}.json`), json);
  writeFileSync(join(dir, 'scheduler-latest.json'), json);
  process.stdout.write(`goal >= 500 pods/s at 1,000 nodes: best ${best} pods/s — ${best >= 500 ? 'met' : 'not met'}\nresults: ${join(dir, `scheduler-${stamp}.json`)}\n`);
  return 0;
}
