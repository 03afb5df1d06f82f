// The `process` runtime: each container instance runs under its own detached shim (the native
// native-shim/shim.c when built, else shim.ts: see shim-command.ts), in
// its own process group, described by files under `<root>/<pod-uid>/containers/<name>/<attempt>/`.
// Guarantees: an instance directory is started at most once (spec.json is written before the
// shim starts; a directory with spec.json is never started again), so an agent restart re-adopts
// instead of duplicating; state is read from the files plus a liveness check of the pids (with
// the /proc start time, so a recycled pid is not mistaken for the container); if a shim died
// without writing exit.json, the agent kills the orphaned group and writes exit.json itself.
// `stop` escalates SIGTERM → SIGKILL on the whole process group. Does not sandbox anything.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { rotateForNewInstance } from '../logs/writer.js';
import { LAUNCH, encodeLaunch } from './launch-file.js';
import { chooseShim, type ShimCommand } from './shim-command.js';
import type { ContainerConfig, ContainerInfo, ContainerRef, Runtime } from './runtime.js';
import { EXIT, SPEC, STATE, groupAlive, isAlive, readJson, writeJson, type ExitFile, type SpecFile, type StateFile } from './state-files.js';

export const RUNTIME_VERSION = '0.1.0';

export interface ProcessRuntimeOptions {
  /** `<dataDir>/agent/pods`: one directory per pod uid. */
  podsDir: string;
  logger?: Logger;
  clock?: Clock;
  /** How long `start` waits for the shim to report the process started. */
  startTimeoutMs?: number;
  /** How often running instances the agent did not start itself are checked for exit. */
  pollMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function containerId(ref: ContainerRef): string {
  return createHash('sha256').update(`${ref.podUid}/${ref.name}/${ref.attempt}`).digest('hex');
}

export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  readonly version = RUNTIME_VERSION;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly listeners: ((info: ContainerInfo) => void)[] = [];
  private readonly shims = new Map<string, ChildProcess>();
  /** Running instances to poll for exit (those whose shim is not our child). */
  private readonly watched = new Map<string, ContainerRef>();
  private poller: NodeJS.Timeout | undefined;
  /** The shim every container starts with (node status checks that it is still there). */
  readonly shimCommand: ShimCommand;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.shimCommand = chooseShim(this.log);
    this.poller = setInterval(() => void this.poll(), opts.pollMs ?? 500);
    this.poller.unref();
  }

  dir(ref: ContainerRef): string {
    return path.join(this.opts.podsDir, ref.podUid, 'containers', ref.name, String(ref.attempt));
  }

  onExit(listener: (info: ContainerInfo) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    // Shims are detached and outlive us; just stop listening to them.
    for (const c of this.shims.values()) c.removeAllListeners('exit');
    this.shims.clear();
  }

  async start(cfg: ContainerConfig): Promise<ContainerInfo> {
    const dir = this.dir(cfg);
    const existing = await this.inspect(cfg);
    if (existing) return existing;
    await fs.mkdir(dir, { recursive: true });
    await fs.mkdir(cfg.logDir, { recursive: true });
    // The last instance's output becomes previous.log (kubectl logs --previous).
    rotateForNewInstance(cfg.logDir);
    const spec: SpecFile = { argv: cfg.argv, env: cfg.env, cwd: cfg.cwd, logDir: cfg.logDir };
    const shimCmd = this.shimCommand;
    // The native shim reads the same spec from launch.bin (no JSON in C); it must exist first.
    if (shimCmd.kind === 'native') await fs.writeFile(path.join(dir, LAUNCH), encodeLaunch(spec));
    // spec.json marks the instance as started: it is never started a second time.
    await writeJson(path.join(dir, SPEC), spec);
    const errFd = openSync(path.join(dir, 'shim.log'), 'a');
    let shim: ChildProcess;
    try {
      shim = spawn(shimCmd.file, [...shimCmd.args, dir], { detached: true, stdio: ['ignore', 'ignore', errFd] });
    } finally {
      closeSync(errFd);
    }
    shim.unref();
    const key = dir;
    this.shims.set(key, shim);
    shim.once('exit', () => {
      this.shims.delete(key);
      void this.notify(cfg);
    });
    shim.once('error', (err) => this.log.error({ err, dir }, 'shim failed to start'));
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 10_000);
    for (;;) {
      const info = await this.inspect(cfg);
      if (info && info.state !== 'created') return info;
      if (Date.now() > deadline) {
        this.log.warn({ dir }, 'shim did not report a start in time');
        return info ?? { ...cfg, id: containerId(cfg), state: 'created' };
      }
      await sleep(5);
    }
  }

  async inspect(ref: ContainerRef): Promise<ContainerInfo | undefined> {
    const dir = this.dir(ref);
    const spec = await readJson<SpecFile>(path.join(dir, SPEC));
    if (!spec) return undefined;
    const base = { podUid: ref.podUid, name: ref.name, attempt: ref.attempt, id: containerId(ref) };
    const state = await readJson<StateFile>(path.join(dir, STATE));
    const exit = await readJson<ExitFile>(path.join(dir, EXIT));
    if (exit) {
      return {
        ...base, state: 'exited', ...(state ? { pid: state.pid, startedAt: state.startedAt } : {}),
        finishedAt: exit.finishedAt, exitCode: exit.exitCode, ...(exit.signal ? { signal: exit.signal } : {}),
        reason: exit.reason, ...(exit.message ? { message: exit.message } : {}),
      };
    }
    if (!state) {
      // Started but not running yet; or a shim that died before reporting.
      if (this.shims.has(dir)) return { ...base, state: 'created' };
      const age = Date.now() - (await fs.stat(path.join(dir, SPEC))).mtimeMs;
      if (age < (this.opts.startTimeoutMs ?? 10_000)) return { ...base, state: 'created' };
      const lost: ExitFile = { exitCode: 128, signal: null, finishedAt: this.clock.now(), reason: 'StartError', message: 'the container shim exited before starting the process' };
      await writeJson(path.join(dir, EXIT), lost);
      return this.inspect(ref);
    }
    if (!isAlive(state.shimPid) && !(await readJson<ExitFile>(path.join(dir, EXIT)))) {
      // The shim is gone without an exit record: nobody reaps or logs the container any more.
      // Kill what is left of it and record the loss, so the restart policy can act.
      if (groupAlive(state.pgid)) this.killGroup(state.pgid, 'SIGKILL');
      const lost: ExitFile = { exitCode: 137, signal: 'SIGKILL', finishedAt: this.clock.now(), reason: 'Error', message: 'the container shim was lost' };
      await writeJson(path.join(dir, EXIT), lost);
      return this.inspect(ref);
    }
    if (!this.shims.has(dir)) this.watched.set(dir, { podUid: ref.podUid, name: ref.name, attempt: ref.attempt });
    return { ...base, state: 'running', pid: state.pid, startedAt: state.startedAt };
  }

  config(ref: ContainerRef): Promise<SpecFile | undefined> {
    return readJson<SpecFile>(path.join(this.dir(ref), SPEC));
  }

  async listPod(podUid: string): Promise<ContainerInfo[]> {
    const root = path.join(this.opts.podsDir, podUid, 'containers');
    const out: ContainerInfo[] = [];
    const names = (await fs.readdir(root).catch(() => [] as string[])).sort();
    for (const name of names) {
      const attempts = (await fs.readdir(path.join(root, name)).catch(() => [] as string[]))
        .filter((a) => /^\d+$/.test(a)).map(Number).sort((a, b) => a - b);
      for (const attempt of attempts) {
        const info = await this.inspect({ podUid, name, attempt });
        if (info) out.push(info);
      }
    }
    return out;
  }

  async listPods(): Promise<string[]> {
    const uids = await fs.readdir(this.opts.podsDir).catch(() => [] as string[]);
    const out: string[] = [];
    for (const uid of uids) if (await fs.stat(path.join(this.opts.podsDir, uid, 'containers')).then(() => true, () => false)) out.push(uid);
    return out;
  }

  async stop(ref: ContainerRef, graceMs: number): Promise<void> {
    const dir = this.dir(ref);
    const state = await readJson<StateFile>(path.join(dir, STATE));
    if (!state) {
      // Not started (or never will be): make sure the shim cannot start it later.
      const shim = this.shims.get(dir);
      if (shim?.pid) this.killGroup(shim.pid, 'SIGKILL');
      if (!(await readJson<ExitFile>(path.join(dir, EXIT))) && (await readJson<SpecFile>(path.join(dir, SPEC)))) {
        await writeJson(path.join(dir, EXIT), { exitCode: 137, signal: 'SIGKILL', finishedAt: this.clock.now(), reason: 'Error', message: 'stopped before it started' } satisfies ExitFile);
      }
      return;
    }
    if (groupAlive(state.pgid)) {
      this.killGroup(state.pgid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (groupAlive(state.pgid) && Date.now() < deadline) await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
      if (groupAlive(state.pgid)) this.killGroup(state.pgid, 'SIGKILL');
      const hard = Date.now() + 5000;
      while (groupAlive(state.pgid) && Date.now() < hard) await sleep(10);
    }
    // Wait for the shim's exit record (it drains the pipes first), then stop waiting for it.
    const until = Date.now() + 3000;
    while (!(await readJson<ExitFile>(path.join(dir, EXIT))) && isAlive(state.shimPid) && Date.now() < until) await sleep(10);
    await this.inspect(ref);
  }

  async removePod(podUid: string): Promise<void> {
    for (const c of await this.listPod(podUid)) if (c.state !== 'exited') await this.stop(c, 0);
    for (const key of [...this.watched.keys()]) if (this.watched.get(key)?.podUid === podUid) this.watched.delete(key);
    await fs.rm(path.join(this.opts.podsDir, podUid, 'containers'), { recursive: true, force: true });
  }

  private killGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pgid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') this.log.warn({ err: e, pgid, signal }, 'kill failed');
    }
  }

  private async notify(ref: ContainerRef): Promise<void> {
    const info = await this.inspect(ref).catch(() => undefined);
    if (!info || info.state !== 'exited') return;
    this.watched.delete(this.dir(ref));
    for (const l of this.listeners) l(info);
  }

  private async poll(): Promise<void> {
    for (const ref of [...this.watched.values()]) await this.notify(ref);
  }
}
