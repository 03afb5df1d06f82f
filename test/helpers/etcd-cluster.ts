// Test helper: a real etcd cluster of 3 (or 5) members, one `/usr/bin/etcd` process each
// (EtcdProcess), on loopback addresses the test gives (one member per address, free ports),
// over plain http, in a temporary directory of its own.
// Guarantees: `EtcdCluster.start` returns once a leader is elected and every member is healthy;
// members can be killed (SIGKILL), stopped (SIGTERM), frozen and thawed (SIGSTOP/SIGCONT) and
// started again one at a time, with their data and ports; `leader()` names the member the live
// members agree leads; `cleanup()` kills every member and removes the directory. Every child is
// also tracked by a ChildTracker with exit hooks, so members die with the test process even
// when the test never reaches its cleanup.
// Does not: use TLS or the managed etcd of src/etcd (the store is what is under test here),
// change membership, or keep the ports it picked reserved until etcd binds them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildTracker } from '../../src/launch/children.js';
import { pollUntil } from '../../src/util/poll.js';
import { EtcdProcess, type EtcdStartOptions } from './etcd.js';

export interface EtcdClusterOptions {
  /** One loopback address per member (3 or 5 of them), e.g. 127.0.7.1-3. */
  hosts: string[];
  /** More etcd flags for every member. */
  extraArgs?: string[];
  /** Prefix of the temporary directory's name. */
  name?: string;
}

/** What one member says about itself (etcd's maintenance status, through its HTTP gateway). */
interface MemberStatus {
  header?: { member_id?: string; revision?: string };
  leader?: string;
}

export class EtcdCluster {
  private constructor(
    readonly root: string,
    readonly members: EtcdProcess[],
    private readonly tracker: ChildTracker,
  ) {}

  static async start(opts: EtcdClusterOptions): Promise<EtcdCluster> {
    if (opts.hosts.length < 1) throw new Error('an etcd cluster needs at least one host');
    const root = await mkdtemp(join(tmpdir(), `${opts.name ?? 'trireme-etcd-cluster'}-`));
    const tracker = new ChildTracker();
    tracker.installExitHooks();
    const members: EtcdProcess[] = [];
    const cluster = new EtcdCluster(root, members, tracker);
    try {
      const ports = await Promise.all(opts.hosts.map(async (host, i) => {
        const p = await EtcdProcess.onFreePorts(join(root, `m${i}`), [], { host });
        return { host, clientPort: p.clientPort, peerPort: p.peerPort };
      }));
      const initialCluster = ports.map((p, i) => `m${i}=http://${p.host}:${p.peerPort}`).join(',');
      for (const [i, p] of ports.entries()) {
        members.push(new EtcdProcess(join(root, `m${i}`), p.clientPort, p.peerPort, opts.extraArgs ?? [],
          { host: p.host, name: `m${i}`, initialCluster, initialClusterState: 'new', tracker }));
      }
      // All at once: no member is healthy before a majority runs.
      await Promise.all(members.map((m) => m.start()));
      await cluster.waitForLeader();
      return cluster;
    } catch (err) {
      await cluster.cleanup();
      throw err;
    }
  }

  /** Client URLs of every member, running or not (what a store is configured with). */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  member(i: number): EtcdProcess {
    const m = this.members[i];
    if (!m) throw new Error(`no etcd member ${i}`);
    return m;
  }

  /** Indexes of the members whose process runs (frozen ones included). */
  running(): number[] {
    return this.members.flatMap((m, i) => (m.running ? [i] : []));
  }

  /** SIGKILL one member and wait for its exit. */
  kill(i: number): Promise<void> {
    return this.member(i).kill();
  }

  /** SIGTERM one member (a leader hands over first) and wait for its exit. */
  stop(i: number): Promise<void> {
    return this.member(i).terminate();
  }

  /** SIGSTOP: the member's sockets stay open, nothing answers. */
  freeze(i: number): void {
    this.member(i).signal('SIGSTOP');
  }

  thaw(i: number): void {
    this.member(i).signal('SIGCONT');
  }

  /**
   * Starts a member that was killed or stopped, on its data dir and ports. Without a quorum it
   * is never healthy: pass `{ waitHealthy: false }` then.
   */
  start(i: number, opts?: EtcdStartOptions): Promise<void> {
    return this.member(i).start(opts);
  }

  async restart(i: number, opts?: EtcdStartOptions): Promise<void> {
    await this.kill(i);
    await this.start(i, opts);
  }

  /**
   * The index of the leader, when every running member that answers within 1 s names the same
   * one and that one is running; undefined otherwise (no quorum, an election under way).
   */
  async leader(): Promise<number | undefined> {
    const statuses = await Promise.all(this.running().map(async (i) => ({ i, s: await this.status(i) })));
    const answered = statuses.filter((x): x is { i: number; s: MemberStatus } => x.s !== undefined);
    const leaders = new Set(answered.map((x) => x.s.leader));
    if (answered.length === 0 || leaders.size !== 1) return undefined;
    const leaderId = [...leaders][0];
    if (!leaderId || leaderId === '0') return undefined;
    return answered.find((x) => x.s.header?.member_id === leaderId)?.i;
  }

  async waitForLeader(timeoutMs = 20_000): Promise<number> {
    return pollUntil('an etcd leader', () => this.leader(), { timeoutMs, everyMs: 100 });
  }

  /** Kills every member (thawing is not needed: SIGKILL ends a stopped process) and removes the directory. */
  async cleanup(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    this.tracker.killAll();
    await rm(this.root, { recursive: true, force: true });
  }

  private async status(i: number): Promise<MemberStatus | undefined> {
    try {
      const res = await fetch(`${this.member(i).endpoint}/v3/maintenance/status`, {
        method: 'POST', body: '{}', signal: AbortSignal.timeout(1_000),
      });
      return res.ok ? ((await res.json()) as MemberStatus) : undefined;
    } catch {
      return undefined;
    }
  }
}
