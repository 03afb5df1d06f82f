// The API server benchmark: create / get / list (1000 objects) with 1, 8 and 32 concurrent
// keep-alive HTTPS clients, and watch fan-out to 100 watchers; the same operations straight
// against a SqliteStore in the same run, and the API/store ratios (docs/benchmarks.md).
//
// Guarantees: bounded: every step has a fixed duration or a fixed number of operations, and a
// watchdog ends the whole run (server included) if it overruns; the server child process is
// stopped at the end and killed on any exit; results go to stdout and bench/results/.
// Does not: isolate CPUs: the server, the load-generator thread and (later, alone) the store
// baseline share the machine, which the results say.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/storage/open.js';
import type { Store } from '../src/storage/store.js';
import { runClosedLoop, type LoopResult } from './lib/closed-loop.js';
import { summarizeProfile, type CpuProfile } from './lib/cpu-profile.js';
import { runFanout, type FanoutOptions, type FanoutRun } from './lib/fanout-driver.js';
import { readCredentials } from './lib/https-client.js';
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
}

const OPS: readonly ApiOp[] = ['create', 'get', 'list'];
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

function plan(quick: boolean): Plan {
  return quick
    ? { durationMs: 2_000, warmupMs: 200, fanout: { watchers: WATCHERS, writes: 40, paceMs: 50, waitMs: 10_000 }, watchdogMs: 150_000 }
    : { durationMs: 10_000, warmupMs: 300, fanout: { watchers: WATCHERS, writes: 200, paceMs: 50, waitMs: 10_000 }, watchdogMs: 295_000 };
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
  cpuUsPerOp: { apiServer?: number; apiClient?: number; store?: number };
  /** CPU other processes used meanwhile, in percent of the machine. */
  otherCpuPct?: number;
}

const perOp = (cpuMs: number | undefined, r: LoopResult): number | undefined =>
  cpuMs === undefined || r.issued === 0 ? undefined : round((cpuMs * 1000) / r.issued, 1);

const CPUS = availableParallelism();
const pct = (v: number | undefined): string => (v === undefined ? '?' : `${v.toFixed(0)}%`);

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
    const loops = new Map<string, Measured>();
    for (const op of OPS) {
      for (const concurrency of CONCURRENCY) {
        const task: LoopTask = {
          kind: 'loop', op, concurrency, durationMs: p.durationMs, warmupMs: p.warmupMs, maxOps: MAX_OPS,
          namespace: NS[op], namePrefix: `api-c${concurrency}`, getName: `${GET_NAME}-0`, listItems: LIST_ITEMS,
        };
        await sleep(SETTLE_MS);
        const before = cpuSnapshot(server.pid);
        const r = await worker.run<LoopResult>(task);
        const used = cpuUsage(before, cpuSnapshot(server.pid), CPUS);
        const cpu = { apiServer: perOp(used.pidMs, r), apiClient: perOp(used.selfMs, r) };
        const otherCpuPct = used.otherPct === undefined ? undefined : round(used.otherPct, 1);
        loops.set(`${op}/${concurrency}`, { result: r, cpuUsPerOp: cpu, otherCpuPct });
        progress(`${describeLoop('API', op, r)}; CPU/req server ${cpu.apiServer ?? '?'} µs, client ${cpu.apiClient ?? '?'} µs; others ${pct(otherCpuPct)}`);
      }
    }
    await sleep(SETTLE_MS);
    const fanout = await worker.run<FanoutRun>({ kind: 'fanout', namespace: NS.watch, options: { ...p.fanout, namePrefix: 'api' } });
    progress(`API fan-out: p50 ${fanout.delay.p50Ms.toFixed(2)} ms p99 ${fanout.delay.p99Ms.toFixed(2)} ms missing ${fanout.missing}`);
    return { loops, fanout };
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
  const p = plan(opts.quick);
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
  try {
    progress(`starting server on ${host} (data in ${root})`);
    server = await startServer({
      cliMain: cliMain(), dataDir: join(root, 'server'), host, logFile: join(root, 'server.log'), tracker: benchTracker(),
      ...(opts.cpuProf ? { cpuProfDir: profDir } : {}),
    });
    const api = await apiPhase(server, p);
    await server.stop();
    server = undefined;
    const store = await storePhase(join(root, 'store'), p);

    const ops: OpRow[] = [];
    let apiErrors = api.fanout.writeErrors;
    let storeErrors = store.fanout.writeErrors;
    for (const op of OPS) {
      for (const concurrency of CONCURRENCY) {
        const a = api.loops.get(`${op}/${concurrency}`);
        const s = store.loops.get(`${op}/${concurrency}`);
        if (a === undefined || s === undefined) throw new Error(`missing result for ${op}/${concurrency}`);
        apiErrors += a.result.errors;
        storeErrors += s.result.errors;
        ops.push({
          op, concurrency, api: a.result, store: s.result,
          ratio: round(s.result.opsPerSec > 0 ? a.result.opsPerSec / s.result.opsPerSec : 0, 4),
          cpuUsPerOp: { ...a.cpuUsPerOp, ...s.cpuUsPerOp },
          otherCpuPct: { api: a.otherCpuPct, store: s.otherCpuPct },
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
      errors: { api: apiErrors, store: storeErrors },
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
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
    else progress(`kept ${root}`);
  }
}

/** `run.js apiserver [--quick] [--cpu-prof] [--keep]`: run, print, write JSON. */
export async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => !['--quick', '--cpu-prof', '--keep'].includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`apiserver: unknown option(s) ${unknown.join(' ')}\nusage: apiserver [--quick] [--cpu-prof] [--keep]\n`);
    return 2;
  }
  const results = await runApiServerBench({ quick: args.includes('--quick'), cpuProf: args.includes('--cpu-prof'), keep: args.includes('--keep') });
  const file = writeResults(resultsDir(), results);
  process.stdout.write(formatSummary(results) + `\n\nresults: ${file}\n`);
  return 0;
}
