// The managed etcd member: the system etcd binary run as a supervised child of the server.
//
// Guarantees:
// - Before the first spawn, any etcd still running on this data dir (left by a server that was
//   killed with SIGKILL: the child outlives its parent) is found through DATA/etcd/etcd.pid and
//   /proc and ended (leftover.ts).
// - The child runs with the flags of args.ts; its stdout/stderr are appended to DATA/etcd/etcd.log
//   through a file descriptor (not a pipe), so an etcd that outlives us is not killed by SIGPIPE
//   and we read its log from the file. Its pid goes to DATA/etcd/etcd.pid.
// - A child that dies is restarted after the back-off of backoff.ts (injected clock), unless
//   the log of that run says the member was removed from the cluster: then supervision ends with
//   TriremeError('MemberRemoved'), `ready()` rejects with it, and nothing is restarted.
// - Once a run became ready, member.json says initialClusterState 'existing' (a lost data dir
//   then fails loudly instead of bootstrapping an empty cluster), and a `forceNewCluster` start
//   records `resetAt` and drops the flag, so restarts and later starts run normally.
// - `stop()` sends SIGTERM and SIGKILL after a bound, waits for the exit, removes the pid file.
// Does not: manage membership (membership.ts), issue certificates (tls.ts), or kill the child
// when this process dies without calling stop() (the next start finds and ends it).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { access, mkdir, open, rm } from 'node:fs/promises';
import { TriremeError } from '../errors.js';
import { exitOf, hasExited, stopChild, type ExitInfo } from '../launch/children.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import { writePrivateFile } from '../util/private-file.js';
import { etcdArgs, type EtcdTuning } from './args.js';
import { DEFAULT_BACKOFF, nextRestart, type BackoffPolicy, type BackoffState } from './backoff.js';
import { probeIsReady, probeMember } from './health.js';
import { killLeftovers } from './leftover.js';
import { checkMemberConfig, etcdPaths, loadMemberConfig, saveMemberConfig, type EtcdPaths, type MemberConfig } from './paths.js';
import type { EtcdClientTls, EtcdTls } from './tls.js';

export const DEFAULT_ETCD_BINARY = '/usr/bin/etcd';

export interface StartEtcdOptions extends EtcdTuning {
  dataDir: string;
  /** The member's config; saved to member.json. Omitted: member.json is read (a restart). */
  config?: MemberConfig;
  tls: EtcdTls;
  etcdBinary?: string;
  logger?: Logger;
  clock?: Clock;
  /** Cluster reset: start once with --force-new-cluster (a one-member cluster from this data). */
  forceNewCluster?: boolean;
  backoff?: BackoffPolicy;
  /** SIGKILL this long after SIGTERM on stop (default 15 s; a lone member takes ~7 s). */
  stopGraceMs?: number;
}

export interface ManagedEtcd {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** PEMs a client of this member uses (EtcdStoreOptions.tls, openEtcdAdmin). */
  readonly clientTls: EtcdClientTls;
  /** The running child's pid, if one runs. */
  pid(): number | undefined;
  /** How many times the child was restarted after dying. */
  restarts(): number;
  /** The error that ended supervision (MemberRemoved), if any. */
  failure(): TriremeError | undefined;
  /**
   * Resolves once the member serves: /health says true, or it is a running learner that knows
   * its leader. Rejects with MemberRemoved, after stop(), or with Timeout (with the log's tail).
   */
  ready(opts?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when supervision ended: with the failure, or undefined after stop(). */
  readonly done: Promise<TriremeError | undefined>;
}

/** Lines etcd 3.4 logs when the cluster told it that it is no longer a member. */
const REMOVED = /permanently removed from the cluster|the member has been removed|member .* has already been removed|data-dir used by this member must be removed/i;

export function logSaysRemoved(text: string): boolean {
  return REMOVED.test(text);
}

export function memberRemovedError(name: string, paths: EtcdPaths): TriremeError {
  return new TriremeError(
    'MemberRemoved',
    `etcd member ${name} was removed from the cluster; to rejoin, delete ${paths.dir} and start the server with --server URL --token T`,
    { context: { member: name, etcdDir: paths.dir } },
  );
}

async function readFrom(file: string, offset: number, max = 256 * 1024): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const start = Math.max(offset, size - max);
    const buf = Buffer.alloc(Math.max(0, size - start));
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

class Supervisor implements ManagedEtcd {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly clientTls: EtcdClientTls;
  readonly done: Promise<TriremeError | undefined>;
  private child: ChildProcess | undefined;
  private logOffset = 0;
  private startedAt = 0;
  private restartCount = 0;
  private backoffState: BackoffState = { quickDeaths: 0 };
  private restartTimer: Timer | undefined;
  private fatal: TriremeError | undefined;
  private stopped = false;
  private forceNew: boolean;
  /** True once member.json records that a run became ready. */
  private settled = false;
  private finish!: (e: TriremeError | undefined) => void;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly paths: EtcdPaths;

  constructor(private cfg: MemberConfig, private readonly opts: StartEtcdOptions) {
    this.name = cfg.name;
    this.clientUrl = cfg.clientUrl;
    this.peerUrl = cfg.peerUrl;
    this.clientTls = opts.tls.client;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.paths = etcdPaths(opts.dataDir);
    this.forceNew = opts.forceNewCluster === true;
    this.settled = cfg.initialClusterState === 'existing' && !this.forceNew;
    this.done = new Promise((r) => (this.finish = r));
  }

  pid(): number | undefined {
    return this.child && !hasExited(this.child) ? this.child.pid : undefined;
  }

  restarts(): number {
    return this.restartCount;
  }

  failure(): TriremeError | undefined {
    return this.fatal;
  }

  async spawnChild(): Promise<void> {
    const args = etcdArgs(this.cfg, this.paths, this.opts.tls, { ...this.opts, forceNewCluster: this.forceNew });
    const fd = openSync(this.paths.log, 'a', 0o600);
    let child: ChildProcess;
    try {
      this.logOffset = fstatSync(fd).size;
      child = spawn(this.opts.etcdBinary ?? DEFAULT_ETCD_BINARY, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.startedAt = this.clock.now();
    child.once('error', (e) => this.log.error({ err: e, member: this.name }, 'etcd could not be spawned'));
    void exitOf(child).then((info) => this.onExit(child, info));
    if (child.pid !== undefined) await writePrivateFile(this.paths.pid, `${child.pid}\n`, 0o644);
    this.log.info({ member: this.name, pid: child.pid, forceNewCluster: this.forceNew, clientUrl: this.clientUrl }, 'etcd started');
  }

  private async onExit(child: ChildProcess, info: ExitInfo): Promise<void> {
    if (this.child !== child) return;
    if (this.stopped) return;
    const text = await readFrom(this.paths.log, this.logOffset).catch((e: unknown) => {
      this.log.error({ err: e }, 'cannot read the etcd log');
      return '';
    });
    if (logSaysRemoved(text)) {
      this.fatal = memberRemovedError(this.name, this.paths);
      this.log.error({ member: this.name, code: info.code, signal: info.signal }, this.fatal.message);
      await rm(this.paths.pid, { force: true });
      this.finish(this.fatal);
      return;
    }
    const next = nextRestart(this.backoffState, this.startedAt, this.clock.now(), this.opts.backoff ?? DEFAULT_BACKOFF);
    this.backoffState = next.state;
    this.log.warn({ member: this.name, code: info.code, signal: info.signal, restartInMs: next.delayMs }, 'etcd exited; restarting');
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.restartCount++;
      this.spawnChild().catch((e: unknown) => {
        this.log.error({ err: e, member: this.name }, 'etcd restart failed');
      });
    }, next.delayMs);
  }

  /** After a run became ready: record it once (and the reset), drop --force-new-cluster. */
  private async settle(): Promise<void> {
    if (this.settled) return;
    const cfg: MemberConfig = { ...this.cfg, initialClusterState: 'existing' };
    if (this.forceNew) {
      cfg.initialCluster = `${this.cfg.name}=${this.cfg.peerUrl}`;
      cfg.resetAt = new Date(this.clock.now()).toISOString();
    }
    await saveMemberConfig(this.opts.dataDir, cfg);
    this.cfg = cfg;
    this.forceNew = false;
    this.settled = true;
  }

  async ready(opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadline = this.clock.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      if (this.fatal) throw this.fatal;
      if (this.stopped) throw new TriremeError('ServiceUnavailable', `etcd member ${this.name} was stopped`);
      try {
        if (this.pid() !== undefined && probeIsReady(await probeMember(this.clientUrl, this.clientTls))) {
          await this.settle();
          return;
        }
        last = undefined;
      } catch (e) {
        last = e;
      }
      if (this.clock.now() >= deadline) {
        const tail = (await readFrom(this.paths.log, this.logOffset, 2_000).catch(() => '')).trim();
        throw new TriremeError('Timeout', `etcd member ${this.name} did not become ready within ${timeoutMs} ms${last === undefined ? '' : ` (${String(last)})`}; log ${this.paths.log} ends:\n${tail}`, { context: { member: this.name } });
      }
      await new Promise<void>((r) => this.clock.setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.done.then(() => undefined);
    this.stopped = true;
    if (this.restartTimer) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child && !hasExited(child)) await stopChild(child, false, this.opts.stopGraceMs ?? 15_000);
    await rm(this.paths.pid, { force: true });
    this.log.info({ member: this.name }, 'etcd stopped');
    this.finish(this.fatal);
  }
}

/**
 * Starts the managed member of `opts.dataDir` and supervises it. The config comes from
 * `opts.config` (then saved to member.json) or from member.json (a restart needs nothing else).
 */
export async function startEtcdMember(opts: StartEtcdOptions): Promise<ManagedEtcd> {
  const paths = etcdPaths(opts.dataDir);
  let cfg: MemberConfig;
  if (opts.config !== undefined) {
    cfg = checkMemberConfig(opts.config);
    const saved = await loadMemberConfig(opts.dataDir);
    // A saved config that already records a ready run keeps its 'existing' state.
    if (saved?.initialClusterState === 'existing' && saved.name === cfg.name) cfg = { ...cfg, initialClusterState: 'existing', ...(saved.resetAt ? { resetAt: saved.resetAt } : {}) };
    await saveMemberConfig(opts.dataDir, cfg);
  } else {
    const saved = await loadMemberConfig(opts.dataDir);
    if (saved === undefined) throw new TriremeError('Invalid', `no etcd member config in ${paths.config}: start with --cluster-init or join with --server URL --token T`, { context: { file: paths.config } });
    cfg = saved;
  }
  const binary = opts.etcdBinary ?? DEFAULT_ETCD_BINARY;
  try {
    await access(binary, constants.X_OK);
  } catch (e) {
    throw new TriremeError('Invalid', `etcd binary ${binary} is not executable (install the etcd-server package)`, { cause: e, context: { binary } });
  }
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const ended = await killLeftovers(paths);
  if (ended.length > 0) (opts.logger ?? silentLogger).warn({ pids: ended, dataDir: paths.data }, 'ended an etcd left running by an earlier server process');
  const sup = new Supervisor(cfg, opts);
  await sup.spawnChild();
  return sup;
}
