// Test helper: one real etcd member on loopback (the Debian etcd-server package), in a data dir
// the caller owns, the `etcd` found on PATH. `start` again after `kill` reuses the data dir and ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/util/free-port.js';
import { deps, pathOf } from './require-dep.js';

/** One etcd member on loopback; `start` again after `kill` reuses the data dir and ports. */
export class EtcdProcess {
  private child: ChildProcess | undefined;
  private output = '';
  constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    /** More etcd flags, e.g. `--quota-backend-bytes`. */
    readonly extraArgs: string[] = [],
    /** The loopback address it listens on (a test's own range). */
    readonly host = '127.0.0.1',
  ) {}

  /** A member on two ports of `host` that are free now (etcd cannot report ports it chose). */
  static async onFreePorts(dataDir: string, extraArgs: string[] = [], host = '127.0.0.1'): Promise<EtcdProcess> {
    return new EtcdProcess(dataDir, await freePort(host), await freePort(host), extraArgs, host);
  }

  get endpoint(): string {
    return `http://${this.host}:${this.clientPort}`;
  }

  async start(): Promise<void> {
    const peer = `http://${this.host}:${this.peerPort}`;
    const child = spawn(
      pathOf(deps.etcd),
      ['--name', 't', '--data-dir', this.dataDir, '--listen-client-urls', this.endpoint, '--advertise-client-urls', this.endpoint,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `t=${peer}`, ...this.extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}:\n${this.output.slice(-2000)}`);
      try {
        const res = await fetch(`${this.endpoint}/health`);
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd did not become healthy:\n${this.output.slice(-2000)}`);
  }

  /** SIGSTOP / SIGCONT freeze and thaw the member: up, connections accepted, nothing answered. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) throw new Error('etcd is not running');
    this.child.kill(signal);
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

