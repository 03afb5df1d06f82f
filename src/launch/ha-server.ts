// One `trireme server` of an HA cluster (a managed etcd member inside) as a child process, for
// the HA tests and the failover benchmark alike, so both start, kill and restart servers the
// same way.
//
// Guarantees: the server binds API port 0 on its first start and the same port on later starts,
// so its URL stays valid for balancers and agents; its etcd client and peer ports are free ports
// of its own address, chosen once; `start()` waits for the ready file and `GET /readyz`;
// `kill()` is kill -9 of the server's process group (its etcd child included: a power pull) and
// waits until both are gone; `baseArgs()` are the flags of every start (no init, join or reset
// flag: a restart with the same data dir needs none).
// Does not: remove its data dir, or wait for the etcd cluster to agree (callers check members).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadyInfo } from '../cli/ready-file.js';
import { freePorts } from '../util/free-port.js';
import { pollUntil } from '../util/poll.js';
import type { ChildTracker, ExitInfo } from './children.js';
import { launchCli, type LaunchedProcess } from './cli-process.js';
import { processGone } from './process-gone.js';
import { probeReady } from './ready-probe.js';

export interface HaServerOptions {
  /** The compiled CLI entry (`…/dist/src/cli/main.js`). */
  entry: string;
  cwd?: string;
  tracker: ChildTracker;
  /** The local agent's flags given its kubelet port (0 on the first start); absent: `--disable-agent`. */
  agentArgs?: (kubeletPort: number) => string[];
  /** Flags for every start, e.g. `--tls-san` of a balancer in front. */
  extraArgs?: string[];
}

export class HaServerProcess {
  readonly dataDir: string;
  readonly logFile: string;
  port = 0;
  private kubeletPort = 0;
  private proc: LaunchedProcess | undefined;
  ready: ReadyInfo | undefined;

  protected constructor(
    readonly name: string,
    readonly host: string,
    readonly root: string,
    readonly etcdClientPort: number,
    readonly etcdPeerPort: number,
    private readonly opts: HaServerOptions,
  ) {
    this.dataDir = join(root, name, 'data');
    this.logFile = join(root, name, 'server.log');
    mkdirSync(join(root, name), { recursive: true });
  }

  /** Two distinct free ports of `host` for the etcd member. */
  protected static async etcdPorts(host: string): Promise<[number, number]> {
    const [client, peer] = await freePorts(host, 2);
    return [client!, peer!];
  }

  static async prepare(root: string, name: string, host: string, opts: HaServerOptions): Promise<HaServerProcess> {
    const [client, peer] = await HaServerProcess.etcdPorts(host);
    return new HaServerProcess(name, host, root, client, peer, opts);
  }

  get url(): string {
    return `https://${this.host}:${this.port}`;
  }

  get kubeconfig(): string {
    return join(this.dataDir, 'kubeconfig.yaml');
  }

  /** The pid of the managed etcd child at the last start (from the ready file). */
  get etcdPid(): number | undefined {
    return this.ready?.etcd?.pid;
  }

  baseArgs(): string[] {
    const agent = this.opts.agentArgs ? this.opts.agentArgs(this.kubeletPort) : ['--disable-agent', '--node-name', this.name];
    return ['server', '--data-dir', this.dataDir, '--bind-address', this.host, '--https-port', String(this.port),
      '--etcd-client-port', String(this.etcdClientPort), '--etcd-peer-port', String(this.etcdPeerPort), ...agent, ...(this.opts.extraArgs ?? [])];
  }

  async start(extra: string[] = [], readyTimeoutMs = 180_000): Promise<void> {
    this.proc = await launchCli({
      entry: this.opts.entry, cwd: this.opts.cwd, tracker: this.opts.tracker, dataDir: this.dataDir, logFile: this.logFile,
      args: [...this.baseArgs(), ...extra], readyTimeoutMs,
      extraReady: async (r) => r.apiServer !== undefined && (await probeReady(r.apiServer.url)),
    });
    this.ready = this.proc.ready;
    this.port = this.proc.ready.apiServer?.port ?? this.port;
    this.kubeletPort = this.proc.ready.kubelet?.port ?? this.kubeletPort;
  }

  /** kill -9 of the server and its etcd child (one process group); waits until both are gone. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const etcdPid = this.etcdPid;
    proc.kill();
    await proc.exited;
    if (etcdPid !== undefined) await pollUntil(`etcd child ${etcdPid} to be gone`, async () => processGone(etcdPid) || undefined, { timeoutMs: 10_000, everyMs: 50 });
  }

  /** SIGTERM, SIGKILL after the grace period. */
  async stop(): Promise<void> {
    await this.proc?.stop(20_000);
  }

  /** The exit of the current process (undefined when none was started). */
  exited(): Promise<ExitInfo> | undefined {
    return this.proc?.exited;
  }

  running(): boolean {
    return this.proc?.running() ?? false;
  }
}
