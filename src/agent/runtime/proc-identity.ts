// Telling a process apart from a later one that got the same pid (Linux /proc).
// A pid names a process only until it is reaped; after that (or after a reboot, when a data dir
// outlives the processes it describes) the same number may belong to anyone. A process is the
// one we recorded only if the boot is the same (`/proc/sys/kernel/random/boot_id`) and its start
// time (`/proc/<pid>/stat` field 22, clock ticks since boot) is the recorded one.
// Guarantees: `parseStat` reads fields after the last ')' (field 2, the command name, may hold
// spaces and parentheses); the readers answer undefined/absent rather than throw for a process
// that is gone. `judgeInstance` and `ownsGroup` are pure: they decide from observations.
// Does not: work without /proc (every identity is then unknown, so nothing is ever signalled).
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** What /proc says about one pid right now. */
export interface ProcObservation {
  exists: boolean;
  /** State `Z`: it has exited and only waits to be reaped. */
  zombie: boolean;
  /** Field 22 (starttime), as written in /proc. */
  start?: string;
}

/** State (field 3), process group (field 5) and start time (field 22) of a /proc/<pid>/stat line. */
export function parseStat(stat: string): { state: string; pgrp: number; start: string } | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") " come fields 3, 4, 5, ...: field n is at index n - 3.
  const rest = stat.slice(close + 2).split(' ');
  const state = rest[0];
  const pgrp = Number(rest[2]);
  const start = rest[19];
  if (!state || !Number.isInteger(pgrp) || !start || !/^\d+$/.test(start)) return undefined;
  return { state, pgrp, start };
}

export function observeProc(pid: number, procRoot = '/proc'): ProcObservation {
  if (!Number.isInteger(pid) || pid <= 0) return { exists: false, zombie: false };
  let text: string;
  try {
    text = readFileSync(path.join(procRoot, String(pid), 'stat'), 'utf8');
  } catch {
    return { exists: false, zombie: false };
  }
  const st = parseStat(text);
  if (!st) return { exists: true, zombie: false };
  return { exists: true, zombie: st.state === 'Z', start: st.start };
}

/** Whether `pid` runs (not a zombie) and, if `start` is given, is the process that had it. */
export function isLive(pid: number, start?: string): boolean {
  const o = observeProc(pid);
  return o.exists && !o.zombie && (start === undefined || o.start === start);
}

/** Field 22 of /proc/<pid>/stat (start time); undefined if the process is gone or not Linux. */
export function procStartTime(pid: number): string | undefined {
  return observeProc(pid).start;
}

/** This boot's id; undefined without /proc. */
export function readBootId(file = '/proc/sys/kernel/random/boot_id'): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether any process of the group exists (zombies included: the kernel still counts them). */
export function groupExists(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The identity a shim records in state.json. */
export interface RecordedIdentity {
  shimPid: number;
  pid: number;
  pgid: number;
  procStart?: string;
  shimStart?: string;
  bootId?: string;
}

/** Everything judgeInstance looks at, read from /proc at one moment. */
export interface InstanceObservation {
  bootId: string | undefined;
  shim: ProcObservation;
  leader: ProcObservation;
  groupAlive: boolean;
}

export function observeInstance(rec: RecordedIdentity, bootId: string | undefined): InstanceObservation {
  return { bootId, shim: observeProc(rec.shimPid), leader: observeProc(rec.pid), groupAlive: groupExists(rec.pgid) };
}

export type Verdict =
  /** The shim is ours and alive: the container runs (or is being reported by it). */
  | { kind: 'running' }
  /** The shim is gone; `killGroup`: what is left of the container's group is provably ours. */
  | { kind: 'shim-lost'; killGroup: boolean; leaderRecycled: boolean }
  /** The record cannot be matched to this boot's processes: the container is gone. */
  | { kind: 'gone'; why: 'rebooted' | 'unverifiable' };

/** Whether the recorded identity is complete and from this boot. */
function sameBoot(rec: RecordedIdentity, obs: InstanceObservation): Verdict | undefined {
  if (rec.bootId === undefined || rec.procStart === undefined || rec.shimStart === undefined || obs.bootId === undefined) return { kind: 'gone', why: 'unverifiable' };
  if (rec.bootId !== obs.bootId) return { kind: 'gone', why: 'rebooted' };
  return undefined;
}

/**
 * Whether signalling `-pgid` reaches only the container's processes: same boot, the group
 * exists, and its leader is either the recorded process or gone. A group's id is its leader's
 * pid, so while no process holds that pid nobody can have started another group with it.
 */
export function ownsGroup(rec: RecordedIdentity, obs: InstanceObservation): boolean {
  if (sameBoot(rec, obs) !== undefined || !obs.groupAlive) return false;
  return !obs.leader.exists || obs.leader.start === rec.procStart;
}

/** What became of an instance that has a state.json and no exit.json. */
export function judgeInstance(rec: RecordedIdentity, obs: InstanceObservation): Verdict {
  const boot = sameBoot(rec, obs);
  if (boot) return boot;
  if (obs.shim.exists && !obs.shim.zombie && obs.shim.start === rec.shimStart) return { kind: 'running' };
  return { kind: 'shim-lost', killGroup: ownsGroup(rec, obs), leaderRecycled: obs.leader.exists && obs.leader.start !== rec.procStart };
}
