// The `process` runtime: each container instance runs under its own detached shim (the native
// native-shim/shim.c when built, else shim.ts: see shim-command.ts), in
// its own process group, described by files under `<root>/<pod-uid>/containers/<name>/<attempt>/`.
// Guarantees: an instance directory is started at most once (spec.json is written before the
// shim starts; a directory with spec.json is never started again, even if spec.json is damaged),
// so an agent restart re-adopts instead of duplicating. State is read from the files plus /proc:
// a pid counts as the recorded process only with the same boot id and /proc start time
// (proc-identity.ts), so after a reboot or a pid recycling the instance is reported gone
// (exit.json reason ContainerStatusUnknown) and nothing is signalled. If a shim died without
// writing exit.json, the agent kills what is provably left of the group and writes exit.json
// itself. A damaged state file is logged once and reported as ContainerStatusUnknown, never read
// as a missing one. `stop` escalates SIGTERM → SIGKILL on the whole process group, only if the
// group is provably the container's. Time comes from the injected Clock. Does not sandbox anything.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock, type Timer } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { rotateForNewInstance } from '../logs/writer.js';
import { LAUNCH, encodeLaunch } from './launch-file.js';
import { groupExists, judgeInstance, observeInstance, observeProc, ownsGroup, readBootId, type Verdict } from './proc-identity.js';
import { chooseShim, type ShimCommand } from './shim-command.js';
import type { ContainerConfig, ContainerInfo, ContainerRef, Runtime } from './runtime.js';
import {
  EXIT, SPEC, STATE, isCorrupt, isExitFile, isSpecFile, isStateFile, readJson, writeJson,
  type ExitFile, type Shape, type SpecFile, type StateFile,
} from './state-files.js';

export const RUNTIME_VERSION = '0.1.0';

/** Kubernetes' reason (and exit code) for a container whose fate cannot be known. */
export const UNKNOWN_REASON = 'ContainerStatusUnknown';
const UNKNOWN_EXIT_CODE = 137;

export interface ProcessRuntimeOptions {
  /** `<dataDir>/agent/pods`: one directory per pod uid. */
  podsDir: string;
  logger?: Logger;
  clock?: Clock;
  /** How long `start` waits for the shim to report the process started. */
  startTimeoutMs?: number;
  /** How often running instances the agent did not start itself are checked for exit. */
  pollMs?: number;
  /** This boot's id (tests pass one); default: /proc/sys/kernel/random/boot_id. */
  bootId?: string;
}

/** A state file read: its document, undefined if missing, or the corruption error. */
type Read<T> = { ok: T | undefined } | { corrupt: Error; mtimeMs: number };

export function containerId(ref: ContainerRef): string {
  return createHash('sha256').update(`${ref.podUid}/${ref.name}/${ref.attempt}`).digest('hex');
}

export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  readonly version = RUNTIME_VERSION;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly bootId: string | undefined;
  private readonly listeners: ((info: ContainerInfo) => void)[] = [];
  private readonly shims = new Map<string, ChildProcess>();
  /** Running instances to poll for exit (those whose shim is not our child). */
  private readonly watched = new Map<string, ContainerRef>();
  /** Damaged files already logged (path + mtime), so each is logged once. */
  private readonly reportedCorrupt = new Set<string>();
  private poller: Timer | undefined;
  private closed = false;
  /** The shim every container starts with (node status checks that it is still there). */
  readonly shimCommand: ShimCommand;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.bootId = opts.bootId ?? readBootId();
    if (this.bootId === undefined) this.log.warn('no /proc/sys/kernel/random/boot_id: running containers cannot be re-adopted after an agent restart');
    this.shimCommand = chooseShim(this.log);
    this.schedulePoll();
  }

  dir(ref: ContainerRef): string {
    return path.join(this.opts.podsDir, ref.podUid, 'containers', ref.name, String(ref.attempt));
  }

  onExit(listener: (info: ContainerInfo) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.closed = true;
    if (this.poller) this.clock.clearTimeout(this.poller);
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
    const deadline = this.clock.now() + (this.opts.startTimeoutMs ?? 10_000);
    for (;;) {
      const info = await this.inspect(cfg);
      if (info && info.state !== 'created') return info;
      if (this.clock.now() > deadline) {
        this.log.warn({ dir }, 'shim did not report a start in time');
        return info ?? { ...cfg, id: containerId(cfg), state: 'created' };
      }
      await this.sleep(5);
    }
  }

  async inspect(ref: ContainerRef): Promise<ContainerInfo | undefined> {
    const dir = this.dir(ref);
    const spec = await this.read(dir, SPEC, isSpecFile);
    // A damaged spec.json still means "started": never start the instance a second time.
    if ('ok' in spec && spec.ok === undefined) return undefined;
    const base = { podUid: ref.podUid, name: ref.name, attempt: ref.attempt, id: containerId(ref) };
    const stateRead = await this.read(dir, STATE, isStateFile);
    const state = 'ok' in stateRead ? stateRead.ok : undefined;
    const started = state ? { pid: state.pid, startedAt: state.startedAt } : {};
    const exitRead = await this.read(dir, EXIT, isExitFile);
    if ('corrupt' in exitRead) return this.unknown(base, started, exitRead.mtimeMs, `${exitRead.corrupt.message}; how the container ended is unknown`);
    const exit = exitRead.ok;
    if (exit) {
      return {
        ...base, state: 'exited', ...started,
        finishedAt: exit.finishedAt, exitCode: exit.exitCode, ...(exit.signal ? { signal: exit.signal } : {}),
        reason: exit.reason, ...(exit.message ? { message: exit.message } : {}),
      };
    }
    if ('corrupt' in stateRead) {
      // Without the pids nothing can be checked or signalled; the shim may still overwrite this
      // with a real exit.json if it is alive.
      return this.unknown(base, started, stateRead.mtimeMs, `${stateRead.corrupt.message}; the container's processes cannot be identified and were not signalled`);
    }
    if (!state) {
      // Started but not running yet; or a shim that died before reporting.
      if (this.shims.has(dir)) return { ...base, state: 'created' };
      const age = this.clock.now() - (await fs.stat(path.join(dir, SPEC))).mtimeMs;
      if (age < (this.opts.startTimeoutMs ?? 10_000)) return { ...base, state: 'created' };
      const lost: ExitFile = { exitCode: 128, signal: null, finishedAt: this.clock.now(), reason: 'StartError', message: 'the container shim exited before starting the process' };
      await writeJson(path.join(dir, EXIT), lost);
      return this.inspect(ref);
    }
    const verdict = judgeInstance(state, observeInstance(state, this.bootId));
    if (verdict.kind !== 'running') {
      await this.recordLoss(dir, state, verdict);
      return this.inspect(ref);
    }
    if (!this.shims.has(dir)) this.watched.set(dir, { podUid: ref.podUid, name: ref.name, attempt: ref.attempt });
    return { ...base, state: 'running', pid: state.pid, startedAt: state.startedAt };
  }

  async config(ref: ContainerRef): Promise<SpecFile | undefined> {
    const spec = await this.read(this.dir(ref), SPEC, isSpecFile);
    return 'ok' in spec ? spec.ok : undefined;
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
    const stateRead = await this.read(dir, STATE, isStateFile);
    const state = 'ok' in stateRead ? stateRead.ok : undefined;
    if ('corrupt' in stateRead) {
      // Which processes are the container's cannot be known: signal nothing (inspect reports it).
      await this.inspect(ref);
      return;
    }
    if (!state) {
      // Not started (or never will be): make sure the shim cannot start it later.
      const shim = this.shims.get(dir);
      if (shim?.pid) this.killGroup(shim.pid, 'SIGKILL');
      const exit = await this.read(dir, EXIT, isExitFile);
      if ('ok' in exit && !exit.ok && (await this.read(dir, SPEC, isSpecFile).then((r) => !('ok' in r) || r.ok !== undefined))) {
        await writeJson(path.join(dir, EXIT), { exitCode: 137, signal: 'SIGKILL', finishedAt: this.clock.now(), reason: 'Error', message: 'stopped before it started' } satisfies ExitFile);
      }
      return;
    }
    // Signal the group only while it is provably the container's (not a recycled pid's).
    const ours = (): boolean => ownsGroup(state, observeInstance(state, this.bootId));
    if (ours()) {
      this.killGroup(state.pgid, 'SIGTERM');
      const deadline = this.clock.now() + graceMs;
      while (groupExists(state.pgid) && this.clock.now() < deadline) await this.sleep(Math.min(50, Math.max(1, deadline - this.clock.now())));
      if (ours()) this.killGroup(state.pgid, 'SIGKILL');
      const hard = this.clock.now() + 5000;
      while (groupExists(state.pgid) && this.clock.now() < hard) await this.sleep(10);
    }
    // Wait for the shim's exit record (it drains the pipes first), then stop waiting for it.
    const until = this.clock.now() + 3000;
    const shimAlive = (): boolean => {
      const shim = observeProc(state.shimPid);
      return shim.exists && !shim.zombie && shim.start === state.shimStart;
    };
    while (!(await this.exitRecorded(dir)) && shimAlive() && this.clock.now() < until) await this.sleep(10);
    await this.inspect(ref);
  }

  async removePod(podUid: string): Promise<void> {
    for (const c of await this.listPod(podUid)) if (c.state !== 'exited') await this.stop(c, 0);
    for (const key of [...this.watched.keys()]) if (this.watched.get(key)?.podUid === podUid) this.watched.delete(key);
    await fs.rm(path.join(this.opts.podsDir, podUid, 'containers'), { recursive: true, force: true });
  }

  /** Reads one state file, logging a damaged one once (a corrupt file is not a missing one). */
  private async read<T>(dir: string, file: string, shape: Shape<T>): Promise<Read<T>> {
    const full = path.join(dir, file);
    try {
      return { ok: await readJson(full, shape) };
    } catch (e) {
      if (!isCorrupt(e)) throw e;
      const mtimeMs = await fs.stat(full).then((st) => st.mtimeMs, () => 0);
      const key = `${full}@${mtimeMs}`;
      if (!this.reportedCorrupt.has(key)) {
        this.reportedCorrupt.add(key);
        this.log.error({ err: e, file: full }, 'container state file is damaged');
      }
      return { corrupt: e, mtimeMs };
    }
  }

  private async exitRecorded(dir: string): Promise<boolean> {
    const r = await this.read(dir, EXIT, isExitFile);
    return !('ok' in r) || r.ok !== undefined;
  }

  /** The status of an instance whose records do not say how it ended (stable: dated by the file). */
  private unknown(base: ContainerRef & { id: string }, started: Partial<ContainerInfo>, finishedAt: number, message: string): ContainerInfo {
    return { ...base, ...started, state: 'exited', exitCode: UNKNOWN_EXIT_CODE, reason: UNKNOWN_REASON, message, finishedAt: Math.floor(finishedAt) };
  }

  /** An instance whose shim is gone: kill what is provably left of it, record how it ended. */
  private async recordLoss(dir: string, state: StateFile, verdict: Exclude<Verdict, { kind: 'running' }>): Promise<void> {
    // The shim writes exit.json and then exits: it may have done both since inspect read it.
    if (await this.exitRecorded(dir)) return;
    let exit: ExitFile;
    if (verdict.kind === 'gone') {
      const message = verdict.why === 'rebooted'
        ? 'the node rebooted since the container started; its processes are gone'
        : 'state.json has no boot id or start times to check its pids against; they were not signalled';
      exit = { exitCode: UNKNOWN_EXIT_CODE, signal: null, finishedAt: this.clock.now(), reason: UNKNOWN_REASON, message };
    } else if (verdict.killGroup) {
      // The shim is gone without an exit record: nobody reaps or logs the container any more.
      // Kill what is left of it and record the loss, so the restart policy can act.
      this.killGroup(state.pgid, 'SIGKILL');
      exit = { exitCode: 137, signal: 'SIGKILL', finishedAt: this.clock.now(), reason: 'Error', message: 'the container shim was lost' };
    } else {
      const message = verdict.leaderRecycled
        ? `the container shim was lost and the container is gone (pid ${state.pid} now belongs to another process, which was not signalled)`
        : 'the container shim was lost and the container is gone';
      exit = { exitCode: UNKNOWN_EXIT_CODE, signal: null, finishedAt: this.clock.now(), reason: UNKNOWN_REASON, message };
    }
    this.log.warn({ dir, pid: state.pid, shimPid: state.shimPid, verdict }, exit.message);
    await writeJson(path.join(dir, EXIT), exit);
  }

  private killGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pgid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') this.log.warn({ err: e, pgid, signal }, 'kill failed');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.clock.setTimeout(r, ms));
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.poller = this.clock.setTimeout(() => {
      void this.poll().finally(() => this.schedulePoll());
    }, this.opts.pollMs ?? 500);
  }

  private async notify(ref: ContainerRef): Promise<void> {
    let info: ContainerInfo | undefined;
    try {
      info = await this.inspect(ref);
    } catch (err) {
      this.log.warn({ err, dir: this.dir(ref) }, 'inspecting a container failed; retried on the next poll');
      return;
    }
    if (!info || info.state !== 'exited') return;
    this.watched.delete(this.dir(ref));
    for (const l of this.listeners) l(info);
  }

  private async poll(): Promise<void> {
    for (const ref of [...this.watched.values()]) await this.notify(ref);
  }
}
