// A one-node cluster for benchmarks that run pods: `trireme server` WITH its local agent
// (server-process.ts starts it; its `startServer` runs the API server alone), on a loopback address of the
// caller's choice, port 0 for the API and the kubelet (the ready file names what they bound), and a host-port range for containers.
// Guarantees: the server leads its own process group, is SIGKILLed (group included) if this
// process exits without stopping it, and `start` fails with the log tail if the server exits
// early or is not ready (`/readyz` and kubeconfig.yaml) in time. `sweepContainers` finds every
// container instance the agent left under `<dataDir>/agent/pods` and SIGKILLs those still
// alive: the group of a container whose leader is verifiably the recorded process (pid plus
// /proc start time), and any process (a shim) whose command line names a directory under it. Containers
// run under detached shims, outside the server's process group, so killing the server never
// kills them: this sweep is the last resort that keeps a benchmark from leaving processes.
// Does not: wait for the agent's node to be Ready (the caller checks through the API).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLive as isAlive } from '../../src/agent/runtime/proc-identity.js';
import { readJsonSync, type StateFile } from '../../src/agent/runtime/state-files.js';
import type { ChildTracker } from '../../src/launch/children.js';
import { startCliServer, type ServerProcess } from './server-process.js';

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
  tracker: ChildTracker;
}

export type ClusterServer = ServerProcess;

export async function startCluster(opts: ClusterOptions): Promise<ClusterServer> {
  // Port 0: the server's ready file names the kubelet port the agent bound.
  return startCliServer({
    ...opts, subcommand: 'server', nodeArgs: opts.nodeArgs,
    extraArgs: ['--node-name', opts.nodeName, '--node-ip', opts.host, '--kubelet-port', '0', '--port-range', `${opts.portRange[0]}-${opts.portRange[1]}`],
  });
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
        let state: StateFile | undefined;
        try {
          state = readJsonSync<StateFile>(join(dir, 'state.json'));
        } catch {
          continue; // damaged: its pids cannot be trusted
        }
        if (state === undefined) continue;
        if (isAlive(state.pid, state.procStart) && kill(-state.pgid, 'SIGKILL')) out.killedContainers++;
      }
    }
  }
  // A shim that has not written state.json yet is found by its command line only.
  for (const pid of processesUnder(podsDir)) if (isAlive(pid) && kill(pid, 'SIGKILL')) out.killedShims++;
  return out;
}
