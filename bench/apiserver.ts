// The API server benchmark: create / get / list (1000 objects) with 1, 8 and 32 concurrent
// keep-alive HTTPS clients, and watch fan-out to 100 watchers; creates and gets against the
// physical floor (a bare HTTPS server replaying the real responses, bench/lib/floor-server.ts)
// and the same operations straight against a SqliteStore in the same run, with the API/floor
// and API/store ratios (docs/benchmarks.md).
//
// Guarantees: bounded: every step has a fixed duration or a fixed number of operations, and a
// watchdog ends the whole run (server included) if it overruns; the server child process is
// stopped at the end and killed on any exit (the floor likewise); results go to stdout and
// bench/results/.
// Does not: isolate CPUs: the server (then, alone, the floor), the load-generator thread and
// (later, alone) the store baseline share the machine, which the results say.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/storage/open.js';
import type { Store } from '../src/storage/store.js';
import { runClosedLoop, type LoopResult } from './lib/closed-loop.js';
import { summarizeProfile, type CpuProfile } from './lib/cpu-profile.js';
import { runFanout, type FanoutOptions, type FanoutRun } from './lib/fanout-driver.js';
import { cmPath } from './lib/api-target.js';
import { configMapBody } from './lib/configmap.js';
import { captureResponses, startFloor } from './lib/floor.js';
import { readCredentials, type Credentials } from './lib/https-client.js';
import { LoadWorker } from './lib/load-client.js';
import type { ApiOp, LoopTask } from './lib/load-protocol.js';
import { cliMain, resultsDir } from './lib/paths.js';
import { cpuSnapshot, cpuUsage } from './lib/proc-cpu.js';
import { formatSummary, judgeGoals, machine, round, writeResults, type ApiBenchResults, type OpRow } from './lib/report.js';
import { benchTracker, startServer, type ServerProcess } from './lib/server-process.js';
import { storeCreate, storeFanoutTarget, storeGet, storeList } from './lib/store-target.js';

export interface ApiBenchOptions {
  quick: boolean;
  /** Profile the server process (`node --cpu-prof`) and summarise where its CPU time went. */
  cpuProf: boolean;
  /** Keep the temp dir (server data, log, raw profile). */
  keep: boolean;
  /** Measured time per step instead of the mode's default. */
  stepMs?: number;
}

const OPS: readonly ApiOp[] = ['create', 'get', 'list'];
/** The operations measured against the physical floor. */
const FLOOR_OPS: readonly ApiOp[] = ['create', 'get'];
/** A create name of the loops' length that no loop uses (`api-c<n>-<seq>`), for the capture. */
const CAPTURE_NAME = 'api-cx-00001';
const CONCURRENCY = [1, 8, 32] as const;
const LIST_ITEMS = 1000;
const WATCHERS = 100;
const NS = { create: 'bench-create', get: 'bench-get', list: 'bench-list', watch: 'bench-watch' } as const;
const GET_NAME = 'target';
/** Far above what a step can do in its time; only a guard against a runaway loop. */
const MAX_OPS = 5_000_000;
/**
 * Pause between steps. Store operations are synchronous underneath, so a store step never lets
 * timers run; the store's periodic compaction (which blocks its thread for tens of ms per
 * 10,000 rows) would then fire inside the next step that yields (the fan-out). The pause lets
 * such deferred work, and the server's, happen between measurements instead of in them.
 */
const SETTLE_MS = 250;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Plan {
  durationMs: number;
  warmupMs: number;
  fanout: Omit<FanoutOptions, 'namePrefix'>;
  watchdogMs: number;
}

function plan(quick: boolean, stepMs?: number): Plan {
  const base = quick
    ? { durationMs: 2_000, warmupMs: 200, fanout: { watchers: WATCHERS, writes: 40, paceMs: 50, waitMs: 10_000 } }
    : { durationMs: 10_000, warmupMs: 300, fanout: { watchers: WATCHERS, writes: 200, paceMs: 50, waitMs: 10_000 } };
  const durationMs = stepMs ?? base.durationMs;
  // Every measured step, both fan-outs, and a generous allowance for setup and server starts.
  const steps = OPS.length * CONCURRENCY.length * 2 + FLOOR_OPS.length * CONCURRENCY.length;
  const fanoutMs = 2 * (base.fanout.writes * base.fanout.paceMs + base.fanout.waitMs);
  return { ...base, durationMs, watchdogMs: steps * (durationMs + base.warmupMs + SETTLE_MS) + fanoutMs + 180_000 };
}

const progress = (msg: string): void => {
  process.stderr.write(`[bench apiserver ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

const describeLoop = (side: string, op: string, r: LoopResult): string =>
  `${side} ${op} c=${r.concurrency}: ${r.opsPerSec.toFixed(0)}/s p50 ${r.latency.p50Ms.toFixed(2)} ms p99 ${r.latency.p99Ms.toFixed(2)} ms` +
  (r.errors > 0 ? ` errors ${r.errors} (${r.firstError ?? ''})` : '');

/** A loop's result with the CPU it cost, in µs per issued operation. */
interface Measured {
  result: LoopResult;
  cpuUsPerOp: { apiServer?: number; apiClient?: number; store?: number; floorServer?: number };
  /** CPU other processes used meanwhile, in percent of the machine. */
  otherCpuPct?: number;
}

const perOp = (cpuMs: number | undefined, r: LoopResult): number | undefined =>
  cpuMs === undefined || r.issued === 0 ? undefined : round((cpuMs * 1000) / r.issued, 1);

const CPUS = availableParallelism();
const pct = (v: number | undefined): string => (v === undefined ? '?' : `${v.toFixed(0)}%`);

/** Closed loops of `ops` at every concurrency level against one HTTPS server (`pid`). */
async function httpLoops(side: string, worker: LoadWorker, pid: number, ops: readonly ApiOp[], p: Plan): Promise<Map<string, Measured>> {
  const loops = new Map<string, Measured>();
  for (const op of ops) {
    for (const concurrency of CONCURRENCY) {
      // The same task (namespace, names, bodies) whichever server answers it.
      const task: LoopTask = {
        kind: 'loop', op, concurrency, durationMs: p.durationMs, warmupMs: p.warmupMs, maxOps: MAX_OPS,
        namespace: NS[op], namePrefix: `api-c${concurrency}`, getName: `${GET_NAME}-0`, listItems: LIST_ITEMS,
      };
      await sleep(SETTLE_MS);
      const before = cpuSnapshot(pid);
      const r = await worker.run<LoopResult>(task);
      const used = cpuUsage(before, cpuSnapshot(pid), CPUS);
      const cpu = { server: perOp(used.pidMs, r), client: perOp(used.selfMs, r) };
      const otherCpuPct = used.otherPct === undefined ? undefined : round(used.otherPct, 1);
      loops.set(`${op}/${concurrency}`, { result: r, cpuUsPerOp: side === 'API' ? { apiServer: cpu.server, apiClient: cpu.client } : { floorServer: cpu.server }, otherCpuPct });
      progress(`${describeLoop(side, op, r)}; CPU/req server ${cpu.server ?? '?'} µs, client ${cpu.client ?? '?'} µs; others ${pct(otherCpuPct)}`);
    }
  }
  return loops;
}

async function apiPhase(server: ServerProcess, p: Plan): Promise<{ loops: Map<string, Measured>; fanout: FanoutRun }> {
  const worker = new LoadWorker(readCredentials(server.kubeconfigPath));
  try {
    const setup = await worker.run<{ elapsedMs: number }>({
      kind: 'setup',
      namespaces: Object.values(NS),
      populate: [
        { namespace: NS.list, namePrefix: 'item', count: LIST_ITEMS },
        { namespace: NS.get, namePrefix: GET_NAME, count: 1 },
      ],
    });
    progress(`API setup (namespaces, ${LIST_ITEMS} objects to list) took ${setup.elapsedMs} ms`);
    const loops = await httpLoops('API', worker, server.pid, OPS, p);
    await sleep(SETTLE_MS);
    const fanout = await worker.run<FanoutRun>({ kind: 'fanout', namespace: NS.watch, options: { ...p.fanout, namePrefix: 'api' } });
    progress(`API fan-out: p50 ${fanout.delay.p50Ms.toFixed(2)} ms p99 ${fanout.delay.p99Ms.toFixed(2)} ms missing ${fanout.missing}`);
    return { loops, fanout };
  } finally {
    await worker.stop();
  }
}

/** The physical floor: the same create and get loops against the floor server, alone on the machine. */
async function floorPhase(creds: Credentials, pid: number, p: Plan): Promise<Map<string, Measured>> {
  const worker = new LoadWorker(creds);
  try {
    return await httpLoops('floor', worker, pid, FLOOR_OPS, p);
  } finally {
    await worker.stop();
  }
}

async function storePhase(dataDir: string, p: Plan): Promise<{ loops: Map<string, Measured>; fanout: FanoutRun }> {
  const store: Store = openStore({ backend: 'sqlite', dataDir });
  try {
    for (let i = 0; i < LIST_ITEMS; i++) await storeCreate(store, NS.list, `item-${i}`);
    await storeCreate(store, NS.get, `${GET_NAME}-0`);
    const loops = new Map<string, Measured>();
    for (const op of OPS) {
      for (const concurrency of CONCURRENCY) {
        const fn = {
          create: (seq: number) => storeCreate(store, NS.create, `store-c${concurrency}-${seq}`),
          get: () => storeGet(store, NS.get, `${GET_NAME}-0`),
          list: () => storeList(store, NS.list, LIST_ITEMS),
        }[op];
        await sleep(SETTLE_MS);
        const before = cpuSnapshot();
        const r = await runClosedLoop({ concurrency, durationMs: p.durationMs, warmupMs: p.warmupMs, maxOps: MAX_OPS, op: fn });
        const used = cpuUsage(before, cpuSnapshot(), CPUS);
        const otherCpuPct = used.otherPct === undefined ? undefined : round(used.otherPct, 1);
        loops.set(`${op}/${concurrency}`, { result: r, cpuUsPerOp: { store: perOp(used.selfMs, r) }, otherCpuPct });
        progress(`${describeLoop('store', op, r)}; others ${pct(otherCpuPct)}`);
      }
    }
    await sleep(SETTLE_MS);
    const fanout = await runFanout(storeFanoutTarget(store, NS.watch), { ...p.fanout, namePrefix: 'store' });
    progress(`store fan-out: p50 ${fanout.delay.p50Ms.toFixed(3)} ms p99 ${fanout.delay.p99Ms.toFixed(3)} ms missing ${fanout.missing}`);
    return { loops, fanout };
  } finally {
    await store.close();
  }
}

function newestProfile(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const last = files[files.length - 1];
  return last === undefined ? undefined : join(dir, last);
}

export async function runApiServerBench(opts: ApiBenchOptions): Promise<ApiBenchResults> {
  const p = plan(opts.quick, opts.stepMs);
  const loadAvgStart = loadavg()[0];
  const startedAt = new Date().toISOString();
  const root = mkdtempSync(join(tmpdir(), 'trireme-bench-'));
  const profDir = join(root, 'prof');
  mkdirSync(profDir);
  // A last resort: whatever hangs, the run ends (the exit hook kills the server).
  const watchdog = setTimeout(() => {
    progress(`watchdog: run exceeded ${p.watchdogMs} ms, aborting`);
    process.exit(3);
  }, p.watchdogMs);
  watchdog.unref();
  // Loopback address of our own, so parallel test servers on 127.0.0.1 do not collide with us.
  const host = `127.0.0.${100 + Math.floor(Math.random() * 150)}`;
  let server: ServerProcess | undefined;
  let floor: { stop(): Promise<void> } | undefined;
  const tracker = benchTracker();
  try {
    progress(`starting server on ${host} (data in ${root})`);
    const serverDataDir = join(root, 'server');
    server = await startServer({
      cliMain: cliMain(), dataDir: serverDataDir, host, logFile: join(root, 'server.log'), tracker,
      ...(opts.cpuProf ? { cpuProfDir: profDir } : {}),
    });
    const api = await apiPhase(server, p);
    const creds = readCredentials(server.kubeconfigPath);
    const responses = await captureResponses(creds, cmPath(NS.create), configMapBody(NS.create, CAPTURE_NAME), `${cmPath(NS.get)}/${GET_NAME}-0`);
    progress(`captured the real create (${Buffer.from(responses.create.bodyBase64, 'base64').length} bytes) and get (${Buffer.from(responses.get.bodyBase64, 'base64').length} bytes) responses`);
    await server.stop();
    server = undefined;

    const floorProc = await startFloor({ host, serverDataDir, kubeconfig: join(serverDataDir, 'kubeconfig.yaml'), workDir: join(root, 'floor'), responses, tracker });
    floor = floorProc;
    progress(`floor server at ${floorProc.url}`);
    const floorLoops = await floorPhase({ ...creds, server: floorProc.url }, floorProc.pid, p);
    await floorProc.stop();
    floor = undefined;

    const store = await storePhase(join(root, 'store'), p);

    const ops: OpRow[] = [];
    let apiErrors = api.fanout.writeErrors;
    let storeErrors = store.fanout.writeErrors;
    let floorErrors = 0;
    for (const op of OPS) {
      for (const concurrency of CONCURRENCY) {
        const a = api.loops.get(`${op}/${concurrency}`);
        const s = store.loops.get(`${op}/${concurrency}`);
        if (a === undefined || s === undefined) throw new Error(`missing result for ${op}/${concurrency}`);
        const f = floorLoops.get(`${op}/${concurrency}`);
        apiErrors += a.result.errors;
        storeErrors += s.result.errors;
        floorErrors += f?.result.errors ?? 0;
        ops.push({
          op, concurrency, api: a.result, store: s.result,
          ratio: round(s.result.opsPerSec > 0 ? a.result.opsPerSec / s.result.opsPerSec : 0, 4),
          ...(f === undefined ? {} : { floor: f.result, floorRatio: round(f.result.opsPerSec > 0 ? a.result.opsPerSec / f.result.opsPerSec : 0, 4) }),
          cpuUsPerOp: { ...a.cpuUsPerOp, ...s.cpuUsPerOp, ...f?.cpuUsPerOp },
          otherCpuPct: { api: a.otherCpuPct, store: s.otherCpuPct, ...(f === undefined ? {} : { floor: f.otherCpuPct }) },
        });
      }
    }
    const goals = judgeGoals(ops, api.fanout);
    const results: ApiBenchResults = {
      benchmark: 'apiserver',
      startedAt,
      finishedAt: new Date().toISOString(),
      mode: opts.quick ? 'quick' : 'full',
      machine: machine(loadAvgStart),
      method: {
        server: 'trireme apiserver (the API server alone, SQLite store) as a child process, HTTPS with the admin client certificate',
        loadGenerator: 'closed loop in a worker thread of the benchmark process, one keep-alive TLS connection per client with a lean HTTP/1.1 client (bench/lib/raw-client.ts); the fan-out uses node:https; the generator shares the CPUs with the server',
        floor: 'physical floor, after the server stopped: a bare Node HTTPS server as a child process (bench/lib/floor-server.ts) with the server\'s ECDSA P-256 certificate and key, client certificates requested, keep-alive; it reads and JSON-parses each create body and answers the exact bytes (status, headers, body) the real server answered to one create and one get; same load worker, same tasks',
        storeBaseline: 'SqliteStore opened in the benchmark main thread after the server stopped; concurrency = outstanding promises',
        durationMsPerStep: p.durationMs,
        pauseMsBetweenSteps: SETTLE_MS,
        warmupMsPerStep: p.warmupMs,
        concurrency: [...CONCURRENCY],
        objectBody: 'ConfigMap, 8 data keys x 32 chars (~256 bytes of data), plain JSON',
        listItems: LIST_ITEMS,
        watchers: p.fanout.watchers,
        fanoutWrites: p.fanout.writes,
        fanoutPaceMs: p.fanout.paceMs,
      },
      ops,
      fanout: { api: api.fanout, store: store.fanout, p99Ratio: round(store.fanout.delay.p99Ms > 0 ? api.fanout.delay.p99Ms / store.fanout.delay.p99Ms : 0, 2) },
      goals,
      allGoalsPass: goals.every((g) => g.pass),
      errors: { api: apiErrors, store: storeErrors, floor: floorErrors },
    };
    const prof = newestProfile(profDir);
    if (prof !== undefined) {
      const copy = join(resultsDir(), `apiserver-${startedAt.replace(/[:.]/g, '-')}-server.cpuprofile.json`);
      mkdirSync(resultsDir(), { recursive: true });
      copyFileSync(prof, copy);
      results.serverProfile = { ...summarizeProfile(JSON.parse(readFileSync(prof, 'utf8')) as CpuProfile), file: copy };
    } else if (opts.cpuProf) {
      progress('no server CPU profile was written (did the server exit cleanly on SIGTERM?)');
    }
    return results;
  } finally {
    clearTimeout(watchdog);
    if (server !== undefined) await server.stop(5_000);
    if (floor !== undefined) await floor.stop();
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
    else progress(`kept ${root}`);
  }
}

/** `run.js apiserver [--quick] [--cpu-prof] [--keep] [--step-ms N]`: run, print, write JSON. */
export async function main(args: string[]): Promise<number> {
  const usage = 'usage: apiserver [--quick] [--cpu-prof] [--keep] [--step-ms N]\n';
  const flags = new Set<string>();
  let stepMs: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--step-ms') {
      stepMs = Number(args[++i]);
      if (!Number.isInteger(stepMs) || stepMs < 500) {
        process.stderr.write(`apiserver: --step-ms needs a whole number of ms >= 500\n${usage}`);
        return 2;
      }
    } else if (['--quick', '--cpu-prof', '--keep'].includes(a)) flags.add(a);
    else {
      process.stderr.write(`apiserver: unknown option ${a}\n${usage}`);
      return 2;
    }
  }
  const results = await runApiServerBench({ quick: flags.has('--quick'), cpuProf: flags.has('--cpu-prof'), keep: flags.has('--keep'), ...(stepMs === undefined ? {} : { stepMs }) });
  const file = writeResults(resultsDir(), results);
  process.stdout.write(formatSummary(results) + `\n\nresults: ${file}\n`);
  return 0;
}
