// E2E harness: the container processes node agents run, seen from outside — the agent's state
// files under its data dir, and /proc.
//
// Guarantees: `killContainers` kills a container's process group only if its leader's /proc
// start time matches the record, and a shim only if its command line names the instance dir,
// so recycled pids are spared.
// Does not: talk to the agent or the API; a snapshot of /proc may be stale the moment it returns.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One container instance as the agent's process runtime recorded it (docs/agent.md). */
export interface ContainerInstance {
  podUid: string;
  container: string;
  attempt: number;
  dir: string;
  shimPid: number;
  pid: number;
  pgid: number;
  /** `/proc/<pid>/stat` start time when it started, to tell a recycled pid apart. */
  procStart: string;
  /** exit.json exists: the instance has ended. */
  exited: boolean;
}

interface StateJson {
  shimPid?: number;
  pid?: number;
  pgid?: number;
  procStart?: string;
}

function readDirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every container instance (with a state.json) under an agent data dir. */
export function containerInstances(agentDataDir: string): ContainerInstance[] {
  const out: ContainerInstance[] = [];
  const pods = join(agentDataDir, 'agent', 'pods');
  for (const podUid of readDirSafe(pods)) {
    for (const container of readDirSafe(join(pods, podUid, 'containers'))) {
      for (const attempt of readDirSafe(join(pods, podUid, 'containers', container))) {
        const dir = join(pods, podUid, 'containers', container, attempt);
        let st: StateJson;
        try {
          st = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StateJson;
        } catch {
          continue; // not started yet, or written right now
        }
        if (st.pid === undefined || st.pgid === undefined) continue;
        out.push({
          podUid, container, attempt: Number(attempt), dir, shimPid: st.shimPid ?? 0, pid: st.pid, pgid: st.pgid,
          procStart: st.procStart ?? '', exited: existsSync(join(dir, 'exit.json')),
        });
      }
    }
  }
  return out;
}

interface ProcInfo {
  pid: number;
  pgid: number;
  startTime: string;
  cmdline: string;
}

/** A snapshot of the processes on this machine from /proc (pid, process group, start time, argv). */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readDirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      // rest[0] is field 3 (state): pgrp is field 5, starttime field 22.
      if (rest[0] === 'Z') continue; // a zombie has exited; it only waits to be reaped
      out.push({ pid: Number(name), pgid: Number(rest[2]), startTime: rest[19] ?? '', cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/** Pids of live processes whose command line contains `marker` (like `pgrep -f`, never us). */
export function processesWith(marker: string): number[] {
  return processes().filter((p) => p.pid !== process.pid && p.cmdline.includes(marker)).map((p) => p.pid);
}

/** Pids of live processes in any of the given process groups. */
export function processesInGroups(pgids: Iterable<number>): number[] {
  const set = new Set(pgids);
  return processes().filter((p) => set.has(p.pgid)).map((p) => p.pid);
}

/**
 * Last resort for `after()`: SIGKILLs every container process group and shim recorded under an
 * agent data dir that is still alive — a group only if its leader's start time matches the
 * record, a shim only if its command line names the instance dir, so recycled pids are spared.
 * Returns how many it killed (0 after a clean test).
 */
export function killContainers(agentDataDir: string): number {
  const procs = processes();
  let killed = 0;
  for (const inst of containerInstances(agentDataDir)) {
    const groupAlive = procs.some((p) => p.pgid === inst.pgid);
    const leader = procs.find((p) => p.pid === inst.pgid);
    // The leader may be gone while its children live on: then trust the group if no one else
    // could have taken the pgid (a new group's id is its leader's pid, which is not running).
    if (groupAlive && (leader === undefined || leader.startTime === inst.procStart || inst.procStart === '')) {
      try {
        process.kill(-inst.pgid, 'SIGKILL');
        killed++;
      } catch {
        // gone meanwhile
      }
    }
    const shim = procs.find((p) => p.pid === inst.shimPid);
    if (shim !== undefined && shim.cmdline.includes(inst.dir)) {
      try {
        process.kill(inst.shimPid, 'SIGKILL');
        killed++;
      } catch {
        // gone meanwhile
      }
    }
  }
  return killed;
}
