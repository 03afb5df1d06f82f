// The pod start-up benchmark: bare Pods created at a fixed rate against a one-node cluster
// (`trireme server` with its local agent), each running a small HTTP server (perl; node with
// `--workload node`) with a readinessProbe (httpGet, period 1 s); per pod, from the create's acknowledgement to the first
// watch event showing it bound, a container running, phase Running and Ready=True. In the same
// run, the floor: the same command spawned directly, and through the agent's shim alone. Where
// the time goes comes from the agent's own files (pod directory creation, spec.json written
// just before the shim is spawned, state.json's startedAt written by the shim once the process
// runs), on the same wall clock (docs/benchmarks.md).
//
// Guarantees: bounded: every wait has a deadline and a watchdog ends the run (killing every
// container and the server) after WATCHDOG_MS; pods are deleted and awaited, the server is
// stopped, and leftover container processes are SIGKILLed from the agent's state files (the
// number killed is reported: it should be 0); results go to stdout and bench/results/.
// Does not: isolate CPUs: benchmark, server, agent, shims and containers share the machine.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import { request } from 'node:https';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster, sweepContainers, type ClusterServer, type SweepResult } from './lib/agent-cluster.js';
import { benchTracker, logTail } from './lib/server-process.js';
import { pollUntil } from '../src/util/poll.js';
import { nowMs } from './lib/fanout-driver.js';
import { LineSplitter } from './lib/fanout.js';
import { adminAgent, readCredentials, send, sendExpect, type Credentials } from './lib/https-client.js';
import { cliMain, resultsDir } from './lib/paths.js';
import { summarizeProfile, type CpuProfile, type ProfileSummary } from './lib/cpu-profile.js';
import { cpuSnapshot, cpuUsage } from './lib/proc-cpu.js';
import { MILESTONES, PodTimeline, type Milestone } from './lib/pod-timeline.js';
import { machine, round, type Machine } from './lib/report.js';
import { chooseShim } from '../src/agent/runtime/shim-command.js';
import { silentLogger } from '../src/util/log.js';
import { directSpawn, shimSpawn, type SpawnBaseline } from './lib/spawn-baseline.js';
import { summarize, type LatencySummary } from './lib/stats.js';

const NS = 'podbench';
const CONTAINER = 'app';
/**
 * The container: a small HTTP server on $PORT. perl is light (~10 ms CPU to start); node is not
 * (~80 ms). perl reads the request head before answering: closing with unread input resets the
 * connection, which fails the readiness probe.
 */
export const WORKLOADS = {
  perl: ['perl', '-MIO::Socket::INET', '-e', '$s=IO::Socket::INET->new(LocalPort=>$ENV{PORT},Listen=>64,ReuseAddr=>1) or die; while($c=$s->accept){while(<$c>){last if /^\\r?\\n$/} print $c "HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"; close $c}'],
  node: ['node', '-e', "require('http').createServer((q,s)=>s.end('ok')).listen(process.env.PORT)"],
} as const;
export type Workload = keyof typeof WORKLOADS;
const GOAL_P99_RUNNING_MS = 1_000;
const WATCHDOG_MS = 175_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (msg: string): void => {
  process.stderr.write(`[bench pod-startup ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
/** Wall clock (ms since the epoch) of a benchmark-clock reading; offset fixed once per run. */
const WALL_OFFSET = Date.now() - nowMs();
const toBench = (wallMs: number): number => wallMs - WALL_OFFSET;

export interface PodStartupOptions {
  pods: number;
  ratePerSec: number;
  baselineRuns: number;
  keep: boolean;
  /** Run the server with `node --cpu-prof` and summarise where its CPU went (whole lifetime). */
  cpuProf: boolean;
  workload: Workload;
}

interface Phase {
  name: string;
  about: string;
  summary: LatencySummary;
}

export interface PodStartupResults {
  benchmark: 'pod-startup';
  startedAt: string;
  finishedAt: string;
  workload: Workload;
  /** The container shim the agent (and the shim baseline) used: TRIREME_SHIM, else native if built. */
  shim: 'native' | 'node';
  machine: Machine;
  method: Record<string, unknown>;
  pods: { requested: number; created: number; createErrors: number; firstCreateError?: string; createSpanMs: number };
  /** ack → milestone (first watch event showing it), over the pods that reached it. */
  latency: Record<Milestone, LatencySummary & { missing: number }>;
  createRoundTrip: LatencySummary;
  /** Consecutive phases per pod, from the agent's files and the watch (see docs/benchmarks.md). */
  phases: Phase[];
  baseline: { direct: SpawnBaseline; shim: SpawnBaseline };
  deletion: { deleted: number; gone: LatencySummary; waitedMs: number };
  cleanup: SweepResult & { serverStopped: boolean };
  cpu: { serverMs?: number; wallMs: number; otherPct?: number; machineBusyPct?: number };
  /**
   * CPU floor: what one start of the command through the shim costs (baseline, measured above)
   * and how many such starts per second the machine's CPUs could do if they did nothing else.
   */
  capacity?: { cpuMsPerPodStart: number; maxPodStartsPerSec: number };
  serverProfile?: ProfileSummary;
  goals: { name: string; target: string; measured: string; pass: boolean }[];
  allGoalsPass: boolean;
  perPod: Record<string, Record<string, number | undefined>>;
}

function podBody(name: string, workload: Workload): string {
  const pod: Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'podbench' } },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [{
        name: CONTAINER, image: workload, command: [...WORKLOADS[workload]],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
      }],
    },
  };
  return JSON.stringify(pod);
}

/** A watch on the namespace's pods from `resourceVersion`, reopened if the stream ends early. */
function watchPods(creds: Credentials, rv: string, onEvent: (type: string, pod: Pod) => void): () => void {
  let closed = false;
  let last = rv;
  let current: ReturnType<typeof request> | undefined;
  const open = (): void => {
    if (closed) return;
    const url = new URL(`/api/v1/namespaces/${NS}/pods?watch=true&allowWatchBookmarks=false&resourceVersion=${encodeURIComponent(last)}`, creds.server);
    const splitter = new LineSplitter();
    current = request(url, { ca: creds.ca, cert: creds.cert, key: creds.key, headers: { Accept: 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const line of splitter.push(chunk)) {
          const ev = JSON.parse(line) as { type?: string; object?: Pod };
          if (ev.type === undefined || ev.object === undefined) continue;
          if (ev.type === 'ERROR') {
            progress(`watch error: ${line.slice(0, 200)}`);
            continue;
          }
          last = ev.object.metadata?.resourceVersion ?? last;
          onEvent(ev.type, ev.object);
        }
      });
      res.on('end', () => {
        if (!closed) setTimeout(open, 50);
      });
    });
    current.on('error', (e) => {
      if (closed) return;
      progress(`watch failed (${e.message}); reopening`);
      setTimeout(open, 200);
    });
    current.end();
  };
  open();
  return () => {
    closed = true;
    current?.destroy();
  };
}

/** pollUntil, with a progress `tick` every 2 s; false (logged) instead of a rejection on timeout. */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, tick?: () => void): Promise<boolean> {
  let lastTick = nowMs();
  try {
    await pollUntil(what, async () => {
      if (await cond()) return true;
      if (tick !== undefined && nowMs() - lastTick > 2_000) {
        tick();
        lastTick = nowMs();
      }
      return undefined;
    }, { timeoutMs, everyMs: 20 });
    return true;
  } catch (e) {
    progress(`gave up: ${(e as Error).message}`);
    return false;
  }
}

async function nodeReady(creds: Credentials, agent: Agent, node: string): Promise<boolean> {
  const res = await send(creds, agent, { method: 'GET', path: `/api/v1/nodes/${node}` });
  if (res.status !== 200) return false;
  const n = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Times the agent left on disk for one pod, on the benchmark clock (undefined where missing). */
function agentTimes(dataDir: string, uid: string): { podDirMs?: number; specMs?: number; processMs?: number } {
  const podDir = join(dataDir, 'agent', 'pods', uid);
  const inst = join(podDir, 'containers', CONTAINER, '0');
  const out: { podDirMs?: number; specMs?: number; processMs?: number } = {};
  try {
    const birth = statSync(podDir).birthtimeMs;
    if (birth > 0) out.podDirMs = toBench(birth);
    out.specMs = toBench(statSync(join(inst, 'spec.json')).mtimeMs);
    const state = JSON.parse(readFileSync(join(inst, 'state.json'), 'utf8')) as { startedAt?: number };
    if (typeof state.startedAt === 'number') out.processMs = toBench(state.startedAt);
  } catch {
    // Missing files leave the phase undefined; the counts in the summaries show it.
  }
  return out;
}

function phasesFrom(perPod: Record<string, Record<string, number | undefined>>): Phase[] {
  const steps: [string, string, string, string][] = [
    ['create → scheduled', 'ack of the create → first watch event with spec.nodeName (scheduler + bind + watch delivery)', 'ackMs', 'scheduledMs'],
    ['create → agent has pod', 'ack → the agent created the pod directory (its informer delivered the bound pod, worker began)', 'ackMs', 'podDirMs'],
    ['agent has pod → shim spawned', 'pod directory → spec.json written (ports, volumes, env; the shim is spawned right after)', 'podDirMs', 'specMs'],
    ['shim spawned → process running', 'spec.json → state.json startedAt (the shim\'s node starts, spawns the command)', 'specMs', 'processMs'],
    ['process running → Running seen', 'state.json startedAt → first watch event with phase Running (agent notices, patches status, watch delivery)', 'processMs', 'runningMs'],
    ['Running → Ready seen', 'phase Running → Ready=True (readiness probe, period 1 s, + status patch)', 'runningMs', 'readyMs'],
  ];
  return steps.map(([name, about, a, b]) => {
    const values: number[] = [];
    for (const p of Object.values(perPod)) {
      const x = p[a];
      const y = p[b];
      if (x !== undefined && y !== undefined) values.push(y - x);
    }
    return { name, about, summary: summarize(values) };
  });
}

function newestProfile(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const last = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1);
  return last === undefined ? undefined : join(dir, last);
}

async function pool<T>(items: T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}

export async function runPodStartup(opts: PodStartupOptions): Promise<PodStartupResults> {
  const loadAvgStart = loadavg()[0];
  const ARGV = WORKLOADS[opts.workload];
  // The same choice the agent's runtime makes (it inherits our environment, TRIREME_SHIM included).
  const shimCmd = chooseShim(silentLogger);
  const startedAt = new Date().toISOString();
  const root = mkdtempSync(join(tmpdir(), 'trireme-podbench-'));
  const dataDir = join(root, 'server');
  let server: ClusterServer | undefined;
  const tracker = benchTracker();
  // Last resort: whatever hangs, no container and no server survives the run.
  const watchdog = setTimeout(() => {
    progress(`watchdog: run exceeded ${WATCHDOG_MS} ms, killing containers and the server`);
    const swept = sweepContainers(dataDir);
    progress(`watchdog sweep: ${JSON.stringify(swept)}`);
    process.exit(3);
  }, WATCHDOG_MS);
  watchdog.unref();
  const host = `127.0.0.${100 + Math.floor(Math.random() * 150)}`;
  const nodeName = `podbench-${Math.floor(Math.random() * 0xffff).toString(16)}`;
  const rangeStart = 20_000 + 400 * Math.floor(Math.random() * 25);
  const portRange: [number, number] = [rangeStart, rangeStart + 399];
  let cleanup: PodStartupResults['cleanup'] = { instances: 0, killedContainers: 0, killedShims: 0, serverStopped: false };
  try {
    progress(`starting server + agent on ${host}, node ${nodeName}, ports ${portRange.join('-')} (data in ${root})`);
    const profDir = join(root, 'prof');
    server = await startCluster({
      cliMain: cliMain(), dataDir, host, nodeName, portRange, logFile: join(root, 'server.log'), tracker,
      ...(opts.cpuProf ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
    });
    const creds = readCredentials(server.kubeconfigPath);
    const agent = adminAgent(creds, 16);
    if (!(await waitFor('the node to be Ready', () => nodeReady(creds, agent, nodeName).catch(() => false), 30_000))) {
      throw new Error(`node ${nodeName} never became Ready; log tail:\n${logTail(join(root, 'server.log'))}`);
    }
    await sendExpect(creds, agent, { method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }) }, 201);

    // The floor, measured first while the cluster is idle.
    const direct = await directSpawn({ argv: ARGV, runs: opts.baselineRuns, host, timeoutMs: 10_000 });
    progress(`bare spawn: alive p50 ${direct.alive.p50Ms.toFixed(1)} ms, serving p50 ${direct.serving.p50Ms.toFixed(1)} p99 ${direct.serving.p99Ms.toFixed(1)} ms`);
    const shim = await shimSpawn({ argv: ARGV, runs: opts.baselineRuns, host, timeoutMs: 10_000, shim: shimCmd, scratchDir: join(root, 'shim') });
    progress(`via shim: alive p50 ${shim.alive.p50Ms.toFixed(1)} ms, serving p50 ${shim.serving.p50Ms.toFixed(1)} p99 ${shim.serving.p99Ms.toFixed(1)} ms`);

    // Watch from the list's resourceVersion, so no event of ours is missed.
    const list = await sendExpect(creds, agent, { method: 'GET', path: `/api/v1/namespaces/${NS}/pods` }, 200);
    const rv = (JSON.parse(list.body) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '0';
    const timeline = new PodTimeline();
    const uids = new Map<string, string>();
    const closeWatch = watchPods(creds, rv, (type, pod) => timeline.event(type, pod, nowMs()));
    await sleep(200);

    const names = Array.from({ length: opts.pods }, (_, i) => `web-${String(i).padStart(3, '0')}`);
    const intervalMs = 1000 / opts.ratePerSec;
    let createErrors = 0;
    let firstCreateError: string | undefined;
    const rtt: number[] = [];
    const before = cpuSnapshot(server.pid);
    const t0 = nowMs();
    progress(`creating ${opts.pods} pods at ${opts.ratePerSec}/s`);
    const creates: Promise<void>[] = [];
    for (const [i, name] of names.entries()) {
      const wait = t0 + i * intervalMs - nowMs();
      if (wait > 0) await sleep(wait);
      const sent = nowMs();
      timeline.created(name, sent);
      creates.push(send(creds, agent, { method: 'POST', path: `/api/v1/namespaces/${NS}/pods`, body: podBody(name, opts.workload) }).then((res) => {
        if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        const at = nowMs();
        timeline.acked(name, at);
        rtt.push(at - sent);
        uids.set(name, (JSON.parse(res.body) as Pod).metadata?.uid ?? '');
      }).catch((e: unknown) => {
        createErrors++;
        firstCreateError ??= e instanceof Error ? e.message : String(e);
      }));
    }
    await Promise.all(creates);
    const createSpanMs = nowMs() - t0;
    const created = opts.pods - createErrors;
    await waitFor('every pod Ready', () => timeline.count('ready') >= created, 60_000, () => {
      progress(`scheduled ${timeline.count('scheduled')}, running ${timeline.count('running')}, ready ${timeline.count('ready')} of ${created}`);
    });
    const after = cpuSnapshot(server.pid);
    const cpu = cpuUsage(before, after, availableParallelism());
    const machineBusyPct = before.machineMs === undefined || after.machineMs === undefined ? undefined
      : round((100 * (after.machineMs - before.machineMs)) / (cpu.wallMs * availableParallelism()), 1);
    progress(`running ${timeline.count('running')}, ready ${timeline.count('ready')} of ${created}`);

    const perPod: PodStartupResults['perPod'] = {};
    for (const [name, t] of timeline.entries()) {
      const uid = uids.get(name);
      perPod[name] = { sentMs: t.sentMs, ackMs: t.ackMs, scheduledMs: t.scheduledMs, startedMs: t.startedMs, runningMs: t.runningMs, readyMs: t.readyMs, ...(uid ? agentTimes(dataDir, uid) : {}) };
    }
    // Relative to the first create, for readability of the JSON.
    for (const p of Object.values(perPod)) for (const k of Object.keys(p)) if (p[k] !== undefined) p[k] = round((p[k] as number) - t0, 2);

    // Clean up: delete every pod and wait for the watch to report each one gone.
    const delStart = new Map<string, number>();
    const delT0 = nowMs();
    await pool(names.filter((n) => uids.has(n)), 16, async (name) => {
      delStart.set(name, nowMs());
      await send(creds, agent, { method: 'DELETE', path: `/api/v1/namespaces/${NS}/pods/${name}` }).catch((e: unknown) => progress(`delete ${name}: ${String(e)}`));
    });
    await waitFor('every pod to be gone', () => timeline.count('deleted') >= uids.size, 40_000, () => {
      progress(`deleted ${timeline.count('deleted')} of ${uids.size}`);
    });
    const waitedMs = nowMs() - delT0;
    const gone: number[] = [];
    for (const [name, at] of delStart) {
      const d = timeline.get(name)?.deletedMs;
      if (d !== undefined) gone.push(d - at);
    }
    closeWatch();
    agent.destroy();

    await server.stop();
    server = undefined;
    cleanup = { ...sweepContainers(dataDir), serverStopped: true };
    if (cleanup.killedContainers + cleanup.killedShims > 0) progress(`had to kill leftovers: ${JSON.stringify(cleanup)}`);
    const prof = opts.cpuProf ? newestProfile(profDir) : undefined;
    const serverProfile = prof === undefined ? undefined : summarizeProfile(JSON.parse(readFileSync(prof, 'utf8')) as CpuProfile, 25);
    if (opts.cpuProf && prof === undefined) progress('no server CPU profile was written');
    const capacity = shim.meanCpuMs === undefined || shim.meanCpuMs <= 0 ? undefined
      : { cpuMsPerPodStart: round(shim.meanCpuMs, 1), maxPodStartsPerSec: round((1000 * availableParallelism()) / shim.meanCpuMs, 1) };

    const latency = {} as PodStartupResults['latency'];
    for (const m of MILESTONES) {
      const l = timeline.latency(m);
      latency[m] = { ...l.summary, missing: l.missing };
    }
    const running = latency.running;
    const goals = [{
      name: 'p99 create → Running',
      target: `≤ ${GOAL_P99_RUNNING_MS} ms`,
      measured: `${running.p99Ms.toFixed(0)} ms${running.missing > 0 ? ` (${running.missing} pods never Running)` : ''}`,
      pass: running.missing === 0 && createErrors === 0 && running.p99Ms <= GOAL_P99_RUNNING_MS,
    }];
    return {
      benchmark: 'pod-startup', startedAt, finishedAt: new Date().toISOString(), workload: opts.workload, shim: shimCmd.kind, machine: machine(loadAvgStart),
      method: {
        cluster: 'trireme server with its local agent (one node), SQLite store, child process; admin client certificate',
        pods: `bare Pods (no controller), one container (workload ${opts.workload}): ${ARGV.join(' ')}; containerPort 8080 named http; readinessProbe httpGet / on http, periodSeconds 1`,
        pacing: `open loop: create i is sent at i/${opts.ratePerSec} s, whatever earlier creates are doing (up to 16 connections)`,
        clock: 'benchmark process, process.hrtime; a milestone = the first watch event (namespace watch from a list\'s resourceVersion) showing it',
        latencyFrom: 'the create\'s 201 response read in full (create acknowledged)',
        agentTimes: 'pod directory birth time, spec.json mtime, state.json startedAt (Date.now() in the shim), mapped to the benchmark clock by one offset',
        baseline: `${opts.baselineRuns} starts each, one at a time, before the pods: the command spawned directly; and the agent's shim alone (${shimCmd.kind}: ${[shimCmd.file, ...shimCmd.args].join(' ')} <dir>, no agent); serving = first byte of an HTTP response on $PORT`,
      },
      pods: { requested: opts.pods, created, createErrors, ...(firstCreateError ? { firstCreateError } : {}), createSpanMs: round(createSpanMs, 1) },
      latency,
      createRoundTrip: summarize(rtt),
      phases: phasesFrom(perPod),
      baseline: { direct, shim },
      deletion: { deleted: timeline.count('deleted'), gone: summarize(gone), waitedMs: round(waitedMs, 0) },
      cleanup,
      cpu: {
        ...(cpu.pidMs === undefined ? {} : { serverMs: cpu.pidMs }), wallMs: round(cpu.wallMs, 0),
        ...(cpu.otherPct === undefined ? {} : { otherPct: round(cpu.otherPct, 1) }),
        ...(machineBusyPct === undefined ? {} : { machineBusyPct }),
      },
      ...(capacity === undefined ? {} : { capacity }),
      ...(serverProfile === undefined ? {} : { serverProfile }),
      goals, allGoalsPass: goals.every((g) => g.pass), perPod,
    };
  } finally {
    clearTimeout(watchdog);
    if (server !== undefined) await server.stop(5_000);
    const swept = sweepContainers(dataDir);
    if (swept.killedContainers + swept.killedShims > 0) progress(`final sweep killed leftovers: ${JSON.stringify(swept)}`);
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
    else progress(`kept ${root}`);
  }
}

const f = (v: number): string => (Number.isNaN(v) ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
const sumRow = (name: string, s: LatencySummary, extra = ''): string =>
  row([name, String(s.count), f(s.p50Ms), f(s.p90Ms), f(s.p99Ms), f(s.maxMs)]) + extra;

export function formatPodStartup(r: PodStartupResults): string {
  const out = [
    `pod-startup (workload ${r.workload}, ${r.shim} shim): ${r.pods.created}/${r.pods.requested} pods created in ${f(r.pods.createSpanMs)} ms (${r.pods.createErrors} errors)`,
    '',
    row(['from create ack to', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']),
    row(['---', '---', '---', '---', '---', '---']),
    ...MILESTONES.map((m) => sumRow(m, r.latency[m], r.latency[m].missing > 0 ? ` missing ${r.latency[m].missing}` : '')),
    sumRow('(create round trip)', r.createRoundTrip),
    '',
    row(['phase (per pod)', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']),
    row(['---', '---', '---', '---', '---', '---']),
    ...r.phases.map((p) => sumRow(p.name, p.summary)),
    '',
    row(['baseline (same command)', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']),
    row(['---', '---', '---', '---', '---', '---']),
    sumRow('spawn → alive', r.baseline.direct.alive),
    sumRow('spawn → serving', r.baseline.direct.serving),
    sumRow('shim spawn → state.json', r.baseline.shim.alive),
    sumRow('shim spawn → serving', r.baseline.shim.serving),
    '',
    `deletion: ${r.deletion.deleted} pods gone, delete → DELETED p50 ${f(r.deletion.gone.p50Ms)} p99 ${f(r.deletion.gone.p99Ms)} ms (waited ${r.deletion.waitedMs} ms)`,
    `cleanup: server stopped ${r.cleanup.serverStopped}, ${r.cleanup.instances} container instances on disk, leftovers killed: ${r.cleanup.killedContainers} containers, ${r.cleanup.killedShims} shims`,
    `CPU from first create to all Ready (${r.cpu.wallMs} ms): server ${r.cpu.serverMs ?? '?'} ms; machine busy ${r.cpu.machineBusyPct ?? '?'}% of ${r.machine.cpus} CPUs, of which other processes (shims and containers included) ${r.cpu.otherPct ?? '?'}%; load ${r.machine.loadAvgStart ?? '?'} → ${r.machine.loadAvgEnd ?? '?'}`,
    ...(r.capacity === undefined ? [] : [`CPU floor: one start via the shim costs ${r.capacity.cpuMsPerPodStart} ms of CPU (shim + command, until it serves): at most ~${r.capacity.maxPodStartsPerSec} pod starts/s on ${r.machine.cpus} idle CPUs`]),
    ...(r.serverProfile === undefined ? [] : [
      `server profile (whole lifetime, ${f(r.serverProfile.totalMs)} ms sampled, idle ${f(r.serverProfile.idlePct)}%), by file:`,
      ...r.serverProfile.files.slice(0, 12).map((h) => `  ${f(h.sharePct).padStart(5)}%  ${h.name}`),
      'by function:',
      ...r.serverProfile.functions.slice(0, 15).map((h) => `  ${f(h.sharePct).padStart(5)}%  ${h.name}`),
    ]),
    '',
    'goals:',
    ...r.goals.map((g) => `  ${g.pass ? 'PASS' : 'FAIL'}  ${g.name}: ${g.measured} (target ${g.target})`),
  ];
  return out.join('\n');
}

function writePodStartup(r: PodStartupResults): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(r, null, 2) + '\n';
  const file = join(dir, `pod-startup-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  writeFileSync(join(dir, 'pod-startup-latest.json'), text);
  return file;
}

function numberOpt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}

/** `run.js pod-startup [--quick] [--cpu-prof] [--pods N] [--rate R] [--baseline-runs N] [--workload perl|node] [--keep]`. */
export async function main(args: string[]): Promise<number> {
  const known = new Set(['--quick', '--keep', '--cpu-prof', '--pods', '--rate', '--baseline-runs', '--workload']);
  const unknown = args.filter((a, i) => a.startsWith('--') ? !known.has(a) : !['--pods', '--rate', '--baseline-runs', '--workload'].includes(args[i - 1] ?? ''));
  if (unknown.length > 0) {
    process.stderr.write(`pod-startup: unknown option(s) ${unknown.join(' ')}\nusage: pod-startup [--quick] [--cpu-prof] [--pods N] [--rate R] [--baseline-runs N] [--workload perl|node] [--keep]\n`);
    return 2;
  }
  const wi = args.indexOf('--workload');
  const workload = wi < 0 ? 'perl' : args[wi + 1];
  if (workload !== 'perl' && workload !== 'node') {
    process.stderr.write('pod-startup: --workload must be perl or node\n');
    return 2;
  }
  const quick = args.includes('--quick');
  const results = await runPodStartup({
    pods: Math.floor(numberOpt(args, '--pods', quick ? 20 : 100)),
    ratePerSec: numberOpt(args, '--rate', 20),
    baselineRuns: Math.floor(numberOpt(args, '--baseline-runs', quick ? 5 : 20)),
    keep: args.includes('--keep'),
    cpuProf: args.includes('--cpu-prof'),
    workload,
  });
  const file = writePodStartup(results);
  process.stdout.write(formatPodStartup(results) + `\n\nresults: ${file}\n`);
  return 0;
}
