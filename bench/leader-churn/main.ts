// The leader-churn benchmark: `trireme server --disable-agent` (API server, in-process
// controller manager and scheduler, default leader-election timings) under a steady write load
// for N minutes (--minutes, default 10): ConfigMap creates, updates and deletes paced at --rate
// writes/s (default 300) by up to --clients requests in flight (default 16). Meanwhile both
// Leases (kube-system/kube-controller-manager, kube-scheduler) are sampled every 250 ms; any
// change of holder or term is a leader transition (goal: 0), and the largest lease age seen
// (now − renewTime) says how close the leader came to its 2 s lease. At the end the server's
// own trireme_leader_transitions_total (started / stopped / lost) is read from /metrics: a
// component that lost its Lease and won it straight back changes no holder but is churn too
// (it restarted); the goal counts both.
//
// Guarantees: bounded (the run ends after its minutes plus a drain of at most 15 s; every
// request has a timeout); the server is stopped and its data dir removed; results go to stdout
// and bench/results/leader-churn-<time>.json. Does not: isolate CPUs (load generator and server
// share the machine, which is the point: the leaders must survive a busy machine).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchTracker, logTail, startCliServer, type ServerProcess } from '../lib/server-process.js';
import { adminAgent, readCredentials, send, type Credentials } from '../lib/https-client.js';
import { cliMain, resultsDir } from '../lib/paths.js';
import { machine, round, type Machine } from '../lib/report.js';
import { Samples, summarize, type LatencySummary } from '../lib/stats.js';
import type { Agent } from 'node:https';
import { parseKubeTime } from '../../src/api/time.js';
import { pollUntil } from '../../src/util/poll.js';
import { summarizeChurn, type ChurnSummary, type LeaseSample } from './transitions.js';

const HOST = '127.0.3.20';
const NS = 'churn';
const LEASES = ['kube-controller-manager', 'kube-scheduler'] as const;
const SAMPLE_MS = 250;
const progress = (msg: string): void => { process.stderr.write(`[bench leader-churn ${new Date().toISOString().slice(11, 19)}] ${msg}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ChurnOptions { minutes: number; rate: number; clients: number }

export interface ChurnResults {
  benchmark: 'leader-churn';
  at: string;
  options: ChurnOptions;
  machine: Machine;
  durationS: number;
  writes: { ok: number; failed: number; ratePerS: number; latency: LatencySummary; firstErrors: string[] };
  leases: Record<string, ChurnSummary>;
  /** trireme_leader_transitions_total by lease and change, from the server's /metrics at the end. */
  serverTransitions: Record<string, number>;
  goal: { transitions: number; ok: boolean };
}

function numberOpt(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, not ${args[i + 1]}`);
  return v;
}

/** Paced writes: a create, an update of it, and a delete once it is old; `rate` per second overall. */
async function writeLoad(creds: Credentials, opts: ChurnOptions, until: number): Promise<ChurnResults['writes']> {
  const agent = adminAgent(creds, opts.clients);
  const latency = new Samples(1 << 16);
  let ok = 0;
  let failed = 0;
  const firstErrors: string[] = [];
  let inFlight = 0;
  let seq = 0;
  const live: string[] = [];
  const base = `/api/v1/namespaces/${NS}/configmaps`;
  const one = async (): Promise<void> => {
    const n = seq++;
    let spec: { method: 'POST' | 'PUT' | 'DELETE'; path: string; body?: string };
    if (n % 3 === 0 || live.length === 0) {
      const name = `cm-${n}`;
      live.push(name);
      spec = { method: 'POST', path: base, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: String(n) } }) };
    } else if (n % 3 === 1) {
      const name = live[live.length - 1]!;
      spec = { method: 'PUT', path: `${base}/${name}`, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: String(n) } }) };
    } else {
      spec = { method: 'DELETE', path: `${base}/${live.length > 200 ? live.shift()! : live[0]!}` };
      if (live.length <= 200) live.shift();
    }
    const t0 = performance.now();
    try {
      const res = await send(creds, agent, { ...spec, timeoutMs: 10_000 });
      // A create racing its own update/delete may see 404/409: the write was answered; count it.
      if (res.status >= 500) throw new Error(`${spec.method} → HTTP ${res.status}: ${res.body.slice(0, 120)}`);
      ok++;
      latency.add(performance.now() - t0);
    } catch (err) {
      failed++;
      if (firstErrors.length < 5) firstErrors.push((err as Error).message);
    }
  };
  const started = performance.now();
  let sent = 0;
  const pending = new Set<Promise<void>>();
  while (Date.now() < until) {
    const due = Math.floor(((performance.now() - started) / 1000) * opts.rate);
    while (sent < due && inFlight < opts.clients) {
      sent++;
      inFlight++;
      const p = one().finally(() => { inFlight--; pending.delete(p); });
      pending.add(p);
    }
    await sleep(2);
  }
  await Promise.race([Promise.allSettled([...pending]), sleep(15_000)]);
  agent.destroy();
  const secs = (performance.now() - started) / 1000;
  return { ok, failed, ratePerS: round(ok / secs, 1), latency: summarize(latency.values()), firstErrors };
}

/** One GET of a Lease as a sample; undefined while it does not exist. */
async function sampleLease(creds: Credentials, agent: Agent, name: string): Promise<LeaseSample | undefined> {
  const res = await send(creds, agent, { method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`, timeoutMs: 5_000 });
  if (res.status !== 200) return undefined;
  const spec = (JSON.parse(res.body) as { spec?: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string } }).spec ?? {};
  return { at: Date.now(), holder: spec.holderIdentity ?? '', transitions: spec.leaseTransitions ?? 0, renewedAt: parseKubeTime(spec.renewTime) };
}

async function sampleLeases(creds: Credentials, until: number): Promise<Record<string, LeaseSample[]>> {
  const agent = adminAgent(creds, 2);
  const out: Record<string, LeaseSample[]> = Object.fromEntries(LEASES.map((l) => [l, []]));
  try {
    while (Date.now() < until) {
      for (const name of LEASES) {
        try {
          const sample = await sampleLease(creds, agent, name);
          if (sample) out[name]!.push(sample);
        } catch {
          // A missed sample is only a gap; leaseTransitions still counts any takeover in it.
        }
      }
      await sleep(SAMPLE_MS);
    }
  } finally {
    agent.destroy();
  }
  return out;
}

async function serverTransitions(creds: Credentials): Promise<Record<string, number>> {
  const agent = adminAgent(creds, 1);
  try {
    const res = await send(creds, agent, { method: 'GET', path: '/metrics', timeoutMs: 10_000 });
    const out: Record<string, number> = {};
    for (const m of res.body.matchAll(/^trireme_leader_transitions_total\{([^}]*)\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  } finally {
    agent.destroy();
  }
}

export async function runLeaderChurn(opts: ChurnOptions): Promise<ChurnResults> {
  const loadStart = loadavg()[0] ?? 0;
  const root = mkdtempSync(join(tmpdir(), 'trireme-churn-'));
  const tracker = benchTracker();
  const logFile = join(root, 'server.log');
  let server: ServerProcess | undefined;
  try {
    server = await startCliServer({ cliMain: cliMain(), dataDir: join(root, 'data'), host: HOST, logFile, tracker, subcommand: 'server', extraArgs: ['--disable-agent'] });
    const creds = readCredentials(server.kubeconfigPath);
    const agent = adminAgent(creds, 1);
    try {
      const ns = await send(creds, agent, { method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }) });
      if (ns.status !== 201) throw new Error(`namespace create: HTTP ${ns.status}`);
      // Both components lead before the clock starts (the first acquisition is not churn).
      await pollUntil('the controller manager and the scheduler to lead', async () => {
        for (const l of LEASES) if (!(await sampleLease(creds, agent, l))?.holder) return undefined;
        return true;
      }, { timeoutMs: 30_000, everyMs: 200 });
    } finally {
      agent.destroy();
    }
    const startedAt = Date.now();
    const until = startedAt + opts.minutes * 60_000;
    progress(`server at ${server.url}; ${opts.minutes} min of ${opts.rate} writes/s (≤ ${opts.clients} in flight)`);
    const ticker = setInterval(() => progress(`${Math.round((Date.now() - startedAt) / 1000)} s`), 60_000);
    const [writes, samples] = await Promise.all([writeLoad(creds, opts, until), sampleLeases(creds, until)]).finally(() => clearInterval(ticker));
    const leases = Object.fromEntries(LEASES.map((l) => [l, summarizeChurn(samples[l] ?? [])]));
    const serverCounts = await serverTransitions(creds);
    // Churn is any holder or term change, and any time the server's own component stopped
    // leading (lost or stopped) even if it won the same Lease straight back.
    const lost = Object.entries(serverCounts).filter(([k]) => !/change="started"/.test(k)).reduce((n, [, v]) => n + v, 0);
    const transitions = Object.values(leases).reduce((n, c) => n + c.changes.length, 0) + lost;
    const results: ChurnResults = {
      benchmark: 'leader-churn', at: new Date(startedAt).toISOString(), options: opts, machine: machine(loadStart),
      durationS: round((Date.now() - startedAt) / 1000, 1), writes, leases,
      serverTransitions: serverCounts, goal: { transitions, ok: transitions === 0 },
    };
    return results;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- server log\n${logTail(logFile, 40)}`, { cause: err });
  } finally {
    await server?.stop().catch(() => undefined);
    tracker.killAll();
    rmSync(root, { recursive: true, force: true });
  }
}

export function formatChurn(r: ChurnResults): string {
  const lines = [
    `leader churn: ${r.durationS} s of ${r.options.rate} writes/s against trireme server (in-process controller manager + scheduler)`,
    `  writes: ${r.writes.ok} ok (${r.writes.ratePerS}/s), ${r.writes.failed} failed; p50 ${round(r.writes.latency.p50Ms, 1)} ms, p99 ${round(r.writes.latency.p99Ms, 1)} ms, max ${round(r.writes.latency.maxMs, 1)} ms`,
  ];
  for (const [name, c] of Object.entries(r.leases)) {
    lines.push(`  ${name}: ${c.changes.length} transitions (leaseTransitions +${c.leaseTransitionsDelta}), ${c.samples} samples, max lease age ${c.maxLeaseAgeMs} ms, holder ${c.holders.join(' → ')}`);
  }
  lines.push(`  server's trireme_leader_transitions_total: ${Object.entries(r.serverTransitions).map(([k, v]) => `{${k}} ${v}`).join(', ') || 'none'}`);
  lines.push(`  goal: 0 transitions and 0 losses → ${r.goal.ok ? 'met' : `MISSED (${r.goal.transitions})`}; load average ${r.machine.loadAvgStart ?? '?'} → ${r.machine.loadAvgEnd} on ${r.machine.cpus} CPUs`);
  if (r.writes.firstErrors.length > 0) lines.push(`  first errors: ${r.writes.firstErrors.join(' | ')}`);
  return lines.join('\n');
}

export async function main(args: string[]): Promise<number> {
  const known = ['--minutes', '--rate', '--clients'];
  const unknown = args.filter((a, i) => (a.startsWith('--') ? !known.includes(a) : !known.includes(args[i - 1] ?? '')));
  if (unknown.length > 0) {
    process.stderr.write(`leader-churn: unknown option(s) ${unknown.join(' ')}\nusage: leader-churn [--minutes N (10)] [--rate W (300)] [--clients C (16)]\n`);
    return 2;
  }
  const opts = { minutes: numberOpt(args, '--minutes', 10), rate: numberOpt(args, '--rate', 300), clients: Math.floor(numberOpt(args, '--clients', 16)) };
  const results = await runLeaderChurn(opts);
  mkdirSync(resultsDir(), { recursive: true });
  const file = join(resultsDir(), `leader-churn-${results.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`${formatChurn(results)}\n\nresults: ${file}\n`);
  return 0;
}
