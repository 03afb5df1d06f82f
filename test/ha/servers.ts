// HA test harness: real `trireme server` processes with managed etcd members on loopback
// addresses (src/launch/ha-server.ts: ports kept across restarts, kill -9 of server and etcd
// child together), tracked by the e2e harness's tracker so every one dies with the test, plus
// kubectl against a server and `runCli`, which runs a one-shot subcommand and returns what it
// printed and its exit code (killed after its timeout).
// `waitApplied` waits until a server's own etcd member has applied a revision: a write is
// acknowledged once a quorum has it, so a member about to be the lone survivor of a
// `--cluster-reset` may still lack it (force-new-cluster keeps only what that member applied).
// Does not: remove data dirs (the test's root dir holds them all), or wait for etcd to agree
// unless asked (waitApplied).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Etcd3 } from 'etcd3';
import { join } from 'node:path';
import { hardKill } from '../../src/launch/children.js';
import { HaServerProcess } from '../../src/launch/ha-server.js';
import { etcdPaths } from '../../src/etcd/paths.js';
import { pollUntil } from '../../src/util/poll.js';
import { agentFlagArgs } from '../e2e/harness/node-flags.js';
import { cliMain, repoRoot } from '../e2e/harness/paths.js';
import { runKubectl, type KubectlOptions, type KubectlResult } from '../e2e/harness/kubectl.js';
import { killAll, tracker } from '../e2e/harness/tracking.js';

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

/** A CLI run's exit code and output, for assertion messages. */
export function showCli(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/**
 * A suite's teardown: stops every server still running, kills whatever the test started (even
 * when a stop fails), and removes `root` unless E2E_KEEP is set (then says where it is).
 */
export async function stopAllAndClean(all: readonly HaServerProcess[], root: string): Promise<void> {
  try {
    for (const s of all) if (s.running()) await s.stop().catch(() => undefined);
  } finally {
    killAll();
    if (process.env.E2E_KEEP === undefined) await rm(root, { recursive: true, force: true });
    else console.error(`kept ${root}`);
  }
}

export interface HaServerCreateOptions {
  /** Run the server's local agent (node name = server name). */
  agent?: boolean;
  /** Deploy the cluster DNS add-on (default off). */
  dns?: boolean;
  /** The local agent's container port range (default portRangeFor(host)). */
  portRange?: [number, number];
  /** More flags for every start (e.g. --service-cluster-ip-range). */
  extraArgs?: string[];
}

/** A server of the HA tests: the launcher's HA server, with kubectl against it. */
export class HaServer extends HaServerProcess {
  readonly scratch: string;

  private constructor(name: string, host: string, root: string, ports: [number, number], opts: HaServerCreateOptions) {
    super(name, host, root, ports[0], ports[1], {
      entry: cliMain, cwd: repoRoot, tracker,
      // No DNS add-on unless asked for (a server without an agent deploys it too): its replicas
      // would run on some test agent and outlive the test's servers. A test that turns it on runs
      // agents on every server and tracks their data dirs (killAll then ends the replicas).
      extraArgs: [...(opts.dns ? [] : ['--disable-dns']), ...(opts.extraArgs ?? [])],
      ...(opts.agent ? { agentArgs: (kubeletPort: number) => agentFlagArgs(host, { nodeName: name, ...(opts.portRange ? { portRange: opts.portRange } : {}) }, kubeletPort) } : {}),
    });
    this.scratch = join(root, name, 'scratch');
    mkdirSync(this.scratch, { recursive: true });
  }

  static async create(root: string, name: string, host: string, opts: HaServerCreateOptions = {}): Promise<HaServer> {
    return new HaServer(name, host, root, await HaServerProcess.etcdPorts(host), opts);
  }

  kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
    return runKubectl(this.kubeconfig, this.scratch, args, opts);
  }

  /** Waits (≤ 30 s) until this server's own etcd member has applied `revision` (its local status). */
  async waitApplied(revision: number): Promise<void> {
    const tls = etcdPaths(this.dataDir).tls;
    const [ca, cert, key] = await Promise.all(['ca.crt', 'client.crt', 'client.key'].map((f) => readFile(join(tls, f))));
    const member = new Etcd3({
      hosts: [`https://${this.host}:${this.etcdClientPort}`],
      credentials: { rootCertificate: ca!, certChain: cert!, privateKey: key! },
    });
    try {
      await pollUntil(`${this.name}'s etcd member to apply revision ${revision}`, async () => {
        const s = await member.maintenance.status();
        return Number(s.header.revision) >= revision || undefined;
      }, { timeoutMs: 30_000, everyMs: 50 });
    } finally {
      member.close();
    }
  }
}
