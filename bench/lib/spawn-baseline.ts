// The floor under pod start-up: how long the same command takes to come up when spawned
// directly (no API, scheduler or agent), and when spawned through the agent's container shim
// alone (node shim.js <dir>, as the process runtime does, but without the agent around it).
// Per start it measures spawn → process alive (the child's 'spawn' event, or state.json written
// by the shim), spawn → first byte of an HTTP response on the command's port, and the CPU the
// started processes used up to then (what each pod start costs the machine, at the least).
// Guarantees: starts run one at a time; each started process group is SIGKILLed before the next
// start (and on any failure), and every wait is bounded (`timeoutMs`); a start that times out
// throws rather than being recorded as a number.
// Does not: isolate the CPU (whatever else runs on the machine adds to these times).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { LAUNCH, encodeLaunch } from '../../src/agent/runtime/launch-file.js';
import type { ShimCommand } from '../../src/agent/runtime/shim-command.js';
import { nowMs } from './fanout-driver.js';
import { processCpuMs } from './proc-cpu.js';
import { summarize, type LatencySummary } from './stats.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface SpawnSample {
  aliveMs: number;
  servingMs: number;
  /** CPU (user + system, 10 ms ticks) the started processes had used when they first answered. */
  cpuMs?: number;
}

export interface SpawnBaseline {
  runs: number;
  alive: LatencySummary;
  serving: LatencySummary;
  /** Mean CPU per start (the command, plus the shim for shim starts), when /proc could tell. */
  meanCpuMs?: number;
  samples: SpawnSample[];
}

/** Resolves true once `host:port` answers an HTTP request with at least one byte. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('connect', () => s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    s.once('data', () => done(true));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}

async function untilServing(host: string, port: number, deadline: number): Promise<number> {
  for (;;) {
    if (await answers(host, port)) return nowMs();
    if (nowMs() > deadline) throw new Error(`nothing answered on ${host}:${port} in time`);
    await sleep(1);
  }
}

function killGroup(pgid: number | undefined): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export interface BaselineOptions {
  /** argv of the command; it must serve HTTP on $PORT. */
  argv: readonly string[];
  runs: number;
  host: string;
  timeoutMs: number;
}

/** The command spawned directly, in its own process group. */
export async function directSpawn(opts: BaselineOptions): Promise<SpawnBaseline> {
  const samples: SpawnSample[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const port = await freePort(opts.host);
    const [cmd, ...args] = opts.argv as [string, ...string[]];
    const t0 = nowMs();
    const child = spawn(cmd, args, { env: { ...process.env, PORT: String(port) }, stdio: 'ignore', detached: true });
    try {
      const alive = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(nowMs()));
        child.once('error', reject);
      });
      const serving = await untilServing(opts.host, port, t0 + opts.timeoutMs);
      const cpuMs = child.pid === undefined ? undefined : processCpuMs(child.pid);
      samples.push({ aliveMs: alive - t0, servingMs: serving - t0, ...(cpuMs === undefined ? {} : { cpuMs }) });
    } finally {
      killGroup(child.pid);
      await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    }
  }
  return result(samples);
}

interface ShimState {
  pid: number;
  pgid: number;
}

/**
 * The command started by the agent's shim (`node shim.js <dir>` or the native `trireme-shim <dir>`,
 * detached, as the runtime chooses it) from a spec.json (and launch.bin for the native one)
 * in a scratch directory: alive = state.json written by the shim (its child runs).
 */
export async function shimSpawn(opts: BaselineOptions & { shim: ShimCommand; scratchDir: string }): Promise<SpawnBaseline> {
  const samples: SpawnSample[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const port = await freePort(opts.host);
    const dir = join(opts.scratchDir, `shim-${i}`);
    const logDir = join(dir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const env = { PATH: process.env.PATH ?? '', PORT: String(port) };
    const spec = { argv: [...opts.argv], env, cwd: dir, logDir };
    if (opts.shim.kind === 'native') writeFileSync(join(dir, LAUNCH), encodeLaunch(spec));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const stateFile = join(dir, 'state.json');
    const t0 = nowMs();
    const shim = spawn(opts.shim.file, [...opts.shim.args, dir], { detached: true, stdio: 'ignore' });
    let state: ShimState | undefined;
    try {
      const deadline = t0 + opts.timeoutMs;
      while (!existsSync(stateFile)) {
        if (nowMs() > deadline || shim.exitCode !== null) throw new Error(`the shim did not start the command (${dir})`);
        await sleep(1);
      }
      const alive = nowMs();
      state = JSON.parse(readFileSync(stateFile, 'utf8')) as ShimState;
      const serving = await untilServing(opts.host, port, deadline);
      const shimCpu = shim.pid === undefined ? undefined : processCpuMs(shim.pid);
      const cmdCpu = processCpuMs(state.pid);
      const cpuMs = shimCpu === undefined || cmdCpu === undefined ? undefined : shimCpu + cmdCpu;
      samples.push({ aliveMs: alive - t0, servingMs: serving - t0, ...(cpuMs === undefined ? {} : { cpuMs }) });
    } finally {
      killGroup(state?.pgid);
      // The shim exits once its child is gone (after writing exit.json); make sure of it.
      const gone = new Promise<void>((r) => (shim.exitCode !== null || shim.signalCode !== null ? r() : shim.once('exit', () => r())));
      const timer = setTimeout(() => killGroup(shim.pid), 3_000);
      await gone;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return result(samples);
}

function result(samples: SpawnSample[]): SpawnBaseline {
  const cpu = samples.map((s) => s.cpuMs).filter((v): v is number => v !== undefined);
  return {
    runs: samples.length,
    alive: summarize(samples.map((s) => s.aliveMs)),
    serving: summarize(samples.map((s) => s.servingMs)),
    ...(cpu.length > 0 ? { meanCpuMs: cpu.reduce((a, b) => a + b, 0) / cpu.length } : {}),
    samples,
  };
}
