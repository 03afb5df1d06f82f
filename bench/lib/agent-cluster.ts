// A one-node cluster for benchmarks that run pods: `trireme server` WITH its local agent
// (unlike server-process.ts, which always passes --disable-agent), on a loopback address of the
// caller's choice, a free API and kubelet port, and a host-port range for containers.
// Guarantees: the server leads its own process group, is SIGKILLed (group included) if this
// process exits without stopping it, and `start` fails with the log tail if the server exits
// early or is not ready (`/readyz` and kubeconfig.yaml) in time. `sweepContainers` finds every
// container instance the agent left under `<dataDir>/agent/pods` and SIGKILLs those still
// alive: the group of a container whose leader is verifiably the recorded process (pid plus
// /proc start time), and any process (a shim) whose command line names a directory under it. Containers
// run under detached shims, outside the server's process group, so killing the server never
// kills them: this sweep is the last resort that keeps a benchmark from leaving processes.
// Does not: wait for the agent's node to be Ready (the caller checks through the API).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { isAlive, readJsonSync, type StateFile } from '../../src/agent/runtime/state-files.js';
import { freePort } from './server-process.js';

export interface ClusterOptions {
  cliMain: string;
  dataDir: string;
  host: string;
  nodeName: string;
  portRange: [number, number];
  logFile: string;
  readyTimeoutMs?: number;
  /** Extra arguments for the server's node (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

export interface ClusterServer {
  host: string;
  port: number;
  pid: number;
  kubeconfigPath: string;
  /** SIGTERM, then SIGKILL to the group after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

process.on('exit', () => {
  for (const c of live) killGroup(c);
});

function probeReady(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Readiness only; clients pin the CA from the kubeconfig afterwards.
    const req = request({ host, port, path: '/readyz', rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function logTail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

export async function startCluster(opts: ClusterOptions): Promise<ClusterServer> {
  const port = await freePort(opts.host);
  const kubeletPort = await freePort(opts.host);
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig.yaml');
  const args = [...(opts.nodeArgs ?? []), '--import', 'reflect-metadata', opts.cliMain, 'server', '--data-dir', opts.dataDir,
    '--bind-address', opts.host, '--https-port', String(port), '--node-name', opts.nodeName, '--node-ip', opts.host,
    '--kubelet-port', String(kubeletPort), '--port-range', `${opts.portRange[0]}-${opts.portRange[1]}`];
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], detached: true, env: process.env });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    live.delete(child);
    resolve();
  }));
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the server process');
  const timeout = opts.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited early (${child.exitCode ?? child.signalCode}); log tail:\n${logTail(opts.logFile)}`);
    }
    if (existsSync(kubeconfigPath) && (await probeReady(opts.host, port))) break;
    if (Date.now() > deadline) {
      killGroup(child);
      throw new Error(`server not ready within ${timeout} ms; log tail:\n${logTail(opts.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: opts.host, port, pid, kubeconfigPath,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => killGroup(child), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface SweepResult {
  /** Container instances found on disk. */
  instances: number;
  /** Container process groups that were still alive and got SIGKILL. */
  killedContainers: number;
  /** Shims that were still alive and got SIGKILL. */
  killedShims: number;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** Pids of live processes one of whose arguments lies under `dir` (the shims: `node shim.js <instance dir>`). */
function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith(dir + '/'))) out.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

function kill(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs what is left of every container instance under `<dataDir>/agent/pods` (synchronous). */
export function sweepContainers(dataDir: string): SweepResult {
  const podsDir = join(dataDir, 'agent', 'pods');
  const out: SweepResult = { instances: 0, killedContainers: 0, killedShims: 0 };
  for (const uid of subdirs(podsDir)) {
    const containers = join(podsDir, uid, 'containers');
    for (const name of subdirs(containers)) {
      for (const attempt of subdirs(join(containers, name))) {
        const dir = join(containers, name, attempt);
        out.instances++;
        const state = readJsonSync<StateFile>(join(dir, 'state.json'));
        if (state === undefined) continue;
        if (isAlive(state.pid, state.procStart) && kill(-state.pgid, 'SIGKILL')) out.killedContainers++;
      }
    }
  }
  // A shim that has not written state.json yet is found by its command line only.
  for (const pid of processesUnder(podsDir)) if (isAlive(pid) && kill(pid, 'SIGKILL')) out.killedShims++;
  return out;
}
