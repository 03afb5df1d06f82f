// Test helper: one real etcd member (the Debian etcd-server package, the `etcd` found on PATH)
// in a data dir the caller owns, over plain http. Alone on 127.0.0.1 by default; with `member`
// options, one member of a cluster on a given loopback address (test/helpers/etcd-cluster.ts).
// Guarantees: `start` again after `kill` reuses the data dir, address and ports; `kill` SIGKILLs
// (also a SIGSTOPped member) and waits for the exit; the child is tracked by `tracker` when one
// is given, so an exit hook can kill it if the test process dies first.
// Does not: pick ports it can keep (freePort: etcd cannot bind port 0 and report it), or remove
// the data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ChildTracker } from '../../src/launch/children.js';
import { freePorts } from '../../src/util/free-port.js';
import { deps, pathOf } from './require-dep.js';

/** How a member of a cluster differs from a lone member. */
export interface EtcdMemberOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Member name (default `t`). */
  name?: string;
  /** `name=peerUrl,...` of every member (default: this member alone). */
  initialCluster?: string;
  /** Default `new`. */
  initialClusterState?: 'new' | 'existing';
  /** Tracks the child so that an exit hook can kill it. */
  tracker?: ChildTracker;
}

export interface EtcdStartOptions {
  /**
   * Wait for `/health` to say true (default). A member that cannot see a quorum never does;
   * `false` waits only until its client port answers.
   */
  waitHealthy?: boolean;
  timeoutMs?: number;
}

/** One etcd member; `start` again after `kill` reuses the data dir and ports. */
export class EtcdProcess {
  private child: ChildProcess | undefined;
  private output = '';
  constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    /** More etcd flags, e.g. `--quota-backend-bytes`. */
    readonly extraArgs: string[] = [],
    readonly member: EtcdMemberOptions = {},
  ) {}

  /** A member on two ports of its host (127.0.0.1) that are free now (etcd cannot report ports it chose). */
  static async onFreePorts(dataDir: string, extraArgs: string[] = [], member: EtcdMemberOptions = {}): Promise<EtcdProcess> {
    const host = member.host ?? '127.0.0.1';
    const [client, peer] = await freePorts(host, 2);
    return new EtcdProcess(dataDir, client!, peer!, extraArgs, member);
  }

  get host(): string {
    return this.member.host ?? '127.0.0.1';
  }

  get name(): string {
    return this.member.name ?? 't';
  }

  get endpoint(): string {
    return `http://${this.host}:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://${this.host}:${this.peerPort}`;
  }

  /** The child's pid while it runs (stopped counts as running). */
  get pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** The last `chars` of what etcd printed, for failure messages. */
  logTail(chars = 2000): string {
    return this.output.slice(-chars);
  }

  async start(opts: EtcdStartOptions = {}): Promise<void> {
    if (this.running) throw new Error(`etcd member ${this.name} is already running`);
    const { waitHealthy = true, timeoutMs = 20_000 } = opts;
    const peer = this.peerUrl;
    const child = spawn(
      pathOf(deps.etcd),
      ['--name', this.name, '--data-dir', this.dataDir, '--listen-client-urls', this.endpoint, '--advertise-client-urls', this.endpoint,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--initial-cluster', this.member.initialCluster ?? `${this.name}=${peer}`,
        '--initial-cluster-state', this.member.initialClusterState ?? 'new', ...this.extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.member.tracker?.track(child, false);
    // Only the tail: a member of a long test logs megabytes.
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-65_536);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`etcd ${this.name} exited with ${child.exitCode}:\n${this.logTail()}`);
      try {
        const res = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(2_000) });
        const body = (await res.json()) as { health?: string };
        if (!waitHealthy || body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd ${this.name} did not ${waitHealthy ? 'become healthy' : 'answer'} within ${timeoutMs} ms:\n${this.logTail()}`);
  }

  /** SIGSTOP / SIGCONT freeze and thaw the member: up, connections accepted, nothing answered. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) throw new Error('etcd is not running');
    this.child.kill(signal);
  }

  /** SIGTERM (a graceful stop: a leader hands over first), SIGKILL after `graceMs`; waits for the exit. */
  async terminate(graceMs = 15_000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT'); // a frozen member cannot act on SIGTERM
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL (SIGTERM takes ~7 s on a lone member) and wait for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}
