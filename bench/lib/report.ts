// The API server benchmark's results: their JSON shape, the goals and their verdicts, the
// summary table, and the files under bench/results/.
// Guarantees: every number measured is in the JSON; goals are computed from those numbers
// only (nothing is hard-coded but the targets); `writeResults` writes the timestamped file and
// `apiserver-latest.json` with identical content.
// Does not: compare with earlier runs.
import { cpus, loadavg, release, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoopResult } from './closed-loop.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { FanoutRun } from './fanout-driver.js';
import type { ApiOp } from './load-protocol.js';

export interface Machine {
  cpus: number;
  /** 1-minute load average when the run started and ended: high values mean a noisy run. */
  loadAvgStart?: number;
  loadAvgEnd?: number;
  cpuModel: string;
  memoryMiB: number;
  node: string;
  os: string;
}

export function machine(loadAvgStart?: number): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    ...(loadAvgStart === undefined ? {} : { loadAvgStart: round(loadAvgStart, 2) }),
    loadAvgEnd: round(loadavg()[0] ?? 0, 2),
    cpuModel: list[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    os: `${process.platform} ${release()} ${process.arch}`,
  };
}

export interface OpRow {
  op: ApiOp;
  concurrency: number;
  api: LoopResult;
  store: LoopResult;
  /** API requests/s divided by store operations/s. */
  ratio: number;
  /** The physical floor (bare HTTPS server replaying real responses; creates and gets only). */
  floor?: LoopResult;
  /** API requests/s divided by floor requests/s. */
  floorRatio?: number;
  /** CPU time per operation (warm-up included), in µs, where it could be measured. */
  cpuUsPerOp: {
    /** The server process (all its threads). */
    apiServer?: number;
    /** The benchmark process while it generated the API load (the load-generator thread). */
    apiClient?: number;
    /** The benchmark process running the store operations. */
    store?: number;
    /** The floor server process. */
    floorServer?: number;
  };
  /** CPU used by other processes during the step, in percent of all CPUs (noise indicator). */
  otherCpuPct: { api?: number; store?: number; floor?: number };
}

export interface Goal {
  name: string;
  target: string;
  measured: number;
  unit: string;
  pass: boolean;
  basis: string;
}

export interface ApiBenchResults {
  benchmark: 'apiserver';
  startedAt: string;
  finishedAt: string;
  mode: 'full' | 'quick';
  machine: Machine;
  method: Record<string, string | number | number[]>;
  ops: OpRow[];
  fanout: { api: FanoutRun; store: FanoutRun; p99Ratio: number };
  goals: Goal[];
  allGoalsPass: boolean;
  errors: { api: number; store: number; floor?: number };
  serverProfile?: ProfileSummary & { file?: string };
}

const peak = (rows: OpRow[], op: ApiOp, side: 'api' | 'store' | 'floor'): number =>
  Math.max(0, ...rows.filter((r) => r.op === op).map((r) => r[side]?.opsPerSec ?? 0));

/** API vs the physical floor for one operation: peak API rate / peak floor rate, in %. */
function floorGoal(rows: OpRow[], op: 'create' | 'get', targetPct: number): Goal {
  const api = peak(rows, op, 'api');
  const floor = peak(rows, op, 'floor');
  const share = floor > 0 ? (100 * api) / floor : 0;
  return {
    name: `${op}s vs physical floor`,
    target: `>= ${targetPct}% of the floor's ${op} rate`,
    measured: round(share, 1),
    unit: '%',
    pass: floor > 0 && share >= targetPct,
    basis: `peak API ${op}s/s (${round(api, 0)}) / peak floor ${op}s/s (${round(floor, 0)}) over the concurrency levels; floor = bare Node HTTPS server, same TLS, replaying the real response${floor > 0 ? '' : '; FAILS because the floor was not measured'}`,
  };
}

/** The issue's goals, judged on peak throughput over the concurrency levels and per-pair p99. */
export function judgeGoals(rows: OpRow[], fanoutApi: FanoutRun): Goal[] {
  const createApi = peak(rows, 'create', 'api');
  const createStore = peak(rows, 'create', 'store');
  const createShare = createStore > 0 ? (100 * createApi) / createStore : 0;
  const gets = peak(rows, 'get', 'api');
  const p99 = fanoutApi.delay.p99Ms;
  const fanoutComplete = fanoutApi.missing === 0 && fanoutApi.writeErrors === 0 && fanoutApi.writes > 0;
  return [
    {
      name: 'creates vs raw store',
      target: '>= 30% of the store create rate',
      measured: round(createShare, 1),
      unit: '%',
      pass: createShare >= 30,
      basis: `peak API creates/s (${round(createApi, 0)}) / peak store creates/s (${round(createStore, 0)}) over the concurrency levels`,
    },
    { name: 'gets', target: '>= 5000 requests/s', measured: round(gets, 0), unit: 'req/s', pass: gets >= 5000, basis: 'peak API gets/s over the concurrency levels' },
    {
      name: 'watch fan-out p99',
      target: '<= 50 ms',
      measured: round(p99, 2),
      unit: 'ms',
      pass: fanoutComplete && p99 <= 50,
      basis: `p99 over all (write, watcher) pairs, ${fanoutApi.watchers} watchers${fanoutComplete ? '' : '; FAILS because events were missing or writes failed'}`,
    },
    floorGoal(rows, 'create', 70),
    floorGoal(rows, 'get', 85),
  ];
}

export function round(v: number, digits: number): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

const pad = (s: string, n: number): string => s.padStart(n);
const num = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const ms = (v: number): string =>
  Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3)) : '-';

/** The human summary printed at the end of a run. */
export function formatSummary(r: ApiBenchResults): string {
  const out: string[] = [];
  out.push(`Trireme API server benchmark (${r.mode}), ${r.startedAt}`);
  out.push(`machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memoryMiB} MiB, node ${r.machine.node}, ${r.machine.os}`);
  out.push(`load average (1 min) at start ${r.machine.loadAvgStart ?? '-'}, at end ${r.machine.loadAvgEnd ?? '-'}` +
    ((r.machine.loadAvgStart ?? 0) > 0.5 ? '  << the machine was busy before the run: numbers are noisy' : ''));
  for (const [k, v] of Object.entries(r.method)) out.push(`  ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  out.push('');
  out.push(`${'op'.padEnd(7)}${pad('conc', 5)} | ${pad('API req/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('errors', 7)} | ${pad('store op/s', 11)}${pad('p50 ms', 9)}${pad('p99 ms', 9)} | ${pad('API/store', 9)} | ${pad('srv µs/req', 10)}${pad('others%', 8)}`);
  out.push('-'.repeat(122));
  for (const row of r.ops) {
    const a = row.api;
    const s = row.store;
    out.push(`${row.op.padEnd(7)}${pad(String(row.concurrency), 5)} | ${pad(num(a.opsPerSec), 10)}${pad(ms(a.latency.p50Ms), 9)}${pad(ms(a.latency.p99Ms), 9)}${pad(String(a.errors), 7)} | ${pad(num(s.opsPerSec), 11)}${pad(ms(s.latency.p50Ms), 9)}${pad(ms(s.latency.p99Ms), 9)} | ${pad(num(row.ratio, 3), 9)} | ${pad(num(row.cpuUsPerOp.apiServer ?? Number.NaN), 10)}${pad(num(row.otherCpuPct.api ?? Number.NaN), 8)}`);
  }
  out.push('  srv µs/req = server process CPU time per request, warm-up included: the cost that does not depend on what else runs');
  out.push('  others% = CPU used by processes other than the server and the benchmark during the API step, in % of all CPUs');
  const floorRows = r.ops.filter((row) => row.floor !== undefined);
  if (floorRows.length > 0) {
    out.push('');
    out.push(`${'op'.padEnd(7)}${pad('conc', 5)} | ${pad('API req/s', 10)} | ${pad('floor req/s', 12)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('errors', 7)} | ${pad('API/floor', 9)} | ${pad('floor µs/req', 12)}${pad('others%', 8)}`);
    out.push('-'.repeat(98));
    for (const row of floorRows) {
      const f = row.floor as LoopResult;
      out.push(`${row.op.padEnd(7)}${pad(String(row.concurrency), 5)} | ${pad(num(row.api.opsPerSec), 10)} | ${pad(num(f.opsPerSec), 12)}${pad(ms(f.latency.p50Ms), 9)}${pad(ms(f.latency.p99Ms), 9)}${pad(String(f.errors), 7)} | ${pad(num(row.floorRatio ?? Number.NaN, 3), 9)} | ${pad(num(row.cpuUsPerOp.floorServer ?? Number.NaN), 12)}${pad(num(row.otherCpuPct.floor ?? Number.NaN), 8)}`);
    }
    out.push('  floor = a bare Node HTTPS server (child process, the real server\'s certificate, keep-alive) that reads and parses the body and answers the bytes the real server answered');
  }
  out.push('');
  const f = (name: string, x: FanoutRun): string =>
    `${name.padEnd(7)}${pad(String(x.watchers), 9)}${pad(String(x.writes), 7)}${pad(ms(x.delay.p50Ms), 9)}${pad(ms(x.delay.p99Ms), 9)}${pad(ms(x.delay.maxMs), 9)}${pad(ms(x.allWatchersDelay.p99Ms), 13)}${pad(String(x.missing), 8)}${pad(ms(x.writeLatency.p50Ms), 12)}`;
  out.push(`${'fan-out'.padEnd(7)}${pad('watchers', 9)}${pad('writes', 7)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('all-w p99', 13)}${pad('missing', 8)}${pad('write p50', 12)}`);
  out.push('-'.repeat(83));
  out.push(f('API', r.fanout.api));
  out.push(f('store', r.fanout.store));
  out.push('  (delay = write acknowledged -> event received, per (write, watcher) pair; all-w = until the last watcher has it)');
  out.push('');
  out.push('goals:');
  for (const g of r.goals) out.push(`  [${g.pass ? 'PASS' : 'FAIL'}] ${g.name}: ${g.measured} ${g.unit} (target ${g.target}; ${g.basis})`);
  if (r.serverProfile !== undefined) {
    out.push('');
    out.push(`server CPU profile (${num(r.serverProfile.totalMs / 1000, 1)} s sampled, ${num(r.serverProfile.idlePct, 1)}% idle)${r.serverProfile.file ? `: ${r.serverProfile.file}` : ''}`);
    out.push('  by file/package (self time):');
    for (const h of r.serverProfile.files.slice(0, 12)) out.push(`    ${pad(num(h.sharePct, 1), 5)}%  ${h.name}`);
    out.push('  hottest functions (self time):');
    for (const h of r.serverProfile.functions.slice(0, 15)) out.push(`    ${pad(num(h.sharePct, 1), 5)}%  ${h.name}`);
  }
  return out.join('\n');
}

/** Writes `<dir>/apiserver-<timestamp>.json` and `<dir>/apiserver-latest.json`; returns the first path. */
export function writeResults(dir: string, r: ApiBenchResults): string {
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(r, null, 2) + '\n';
  const file = join(dir, `apiserver-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  writeFileSync(join(dir, 'apiserver-latest.json'), text);
  return file;
}
