// HA test harness: real `trireme server` processes with managed etcd members on loopback
// addresses, started through the CLI launcher (src/launch/cli-process.ts) and tracked by the e2e
// harness's tracker, so every server and its etcd child (same process group) die with the test.
//
// Guarantees: a server binds API port 0 on its first start and the same port on later starts;
// its etcd ports are free ports of its own address, chosen once; `start()` waits for the ready
// file and `GET /readyz`; `kill()` is kill -9 of the server's process group (its etcd child
// included) and waits for both to be gone; `runCli` runs a one-shot subcommand and returns what
// it printed and its exit code (killed after its timeout).
// Does not: remove data dirs (the test's root dir holds them all), or wait for etcd to agree.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchCli, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { hardKill } from '../../src/launch/children.js';
import { freePort } from '../../src/util/free-port.js';
import { pollUntil } from '../../src/util/poll.js';
import type { ReadyInfo } from '../../src/cli/ready-file.js';
import { processGone } from '../helpers/process.js';
import { agentFlagArgs } from '../e2e/harness/node-flags.js';
import { cliMain, repoRoot } from '../e2e/harness/paths.js';
import { runKubectl, type KubectlResult } from '../e2e/harness/kubectl.js';
import { probeReady } from '../e2e/harness/server.js';
import { tracker } from '../e2e/harness/tracking.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `trireme <args>` to completion (SIGKILL after `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'reflect-metadata', cliMain, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  tracker.track(child, true);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => hardKill(child, true), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export class HaServer {
  readonly dataDir: string;
  readonly logFile: string;
  readonly scratch: string;
  port = 0;
  private kubeletPort = 0;
  private proc: LaunchedProcess | undefined;
  ready: ReadyInfo | undefined;

  private constructor(
    readonly name: string,
    readonly host: string,
    root: string,
    readonly etcdClientPort: number,
    readonly etcdPeerPort: number,
    /** Run the local agent (node = name). */
    readonly agent: boolean,
  ) {
    this.dataDir = join(root, name, 'data');
    this.scratch = join(root, name, 'scratch');
    this.logFile = join(root, name, 'server.log');
    mkdirSync(this.scratch, { recursive: true });
  }

  static async create(root: string, name: string, host: string, opts: { agent?: boolean } = {}): Promise<HaServer> {
    const client = await freePort(host);
    let peer = await freePort(host);
    for (let i = 0; i < 10 && peer === client; i++) peer = await freePort(host);
    return new HaServer(name, host, root, client, peer, opts.agent === true);
  }

  get url(): string {
    return `https://${this.host}:${this.port}`;
  }

  get kubeconfig(): string {
    return join(this.dataDir, 'kubeconfig.yaml');
  }

  /** The flags every start passes (no join, init or reset flag). */
  baseArgs(): string[] {
    const agentArgs = this.agent ? agentFlagArgs(this.host, { nodeName: this.name }, this.kubeletPort) : ['--disable-agent', '--node-name', this.name];
    return ['server', '--data-dir', this.dataDir, '--bind-address', this.host, '--https-port', String(this.port),
      '--etcd-client-port', String(this.etcdClientPort), '--etcd-peer-port', String(this.etcdPeerPort), ...agentArgs];
  }

  async start(extra: string[] = [], readyTimeoutMs = 180_000): Promise<void> {
    this.proc = await launchCli({
      entry: cliMain, cwd: repoRoot, tracker, dataDir: this.dataDir, logFile: this.logFile,
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
    const etcdPid = this.ready?.etcd?.pid;
    proc.kill();
    await proc.exited;
    if (etcdPid !== undefined) await pollUntil(`etcd child ${etcdPid} to be gone`, async () => processGone(etcdPid) || undefined, { timeoutMs: 10_000, everyMs: 50 });
  }

  /** SIGTERM, SIGKILL after the grace period. */
  async stop(): Promise<void> {
    await this.proc?.stop(20_000);
  }

  /** The exit of the current process (undefined when none was started). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined {
    return this.proc?.exited;
  }

  running(): boolean {
    return this.proc?.running() ?? false;
  }

  kubectl(args: string[]): Promise<KubectlResult> {
    return runKubectl(this.kubeconfig, this.scratch, args);
  }
}
