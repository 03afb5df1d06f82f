// Reads what resource usage is computed from (the I/O edge of src/agent/stats): /proc/stat and
// /proc/meminfo for the node, and one pass over /proc/<pid>/stat for the processes of every
// container. A container of the process runtime is a session and process group of its own (the
// shim calls setsid before exec), so its processes are those whose session or process group is
// the container's first pid — including children that made a process group of their own.
// Guarantees: processes that vanish during the pass are skipped (they are gone either way);
// `parsePidStat` reads fields after the last ')' (the command name may hold spaces and
// parentheses); ticks and page size come from getconf, 100 and 4096 when it cannot answer.
// Does not: read cgroups (the process runtime puts pods in none), or count a process that left
// both the session and the group (setsid in a grandchild): its time is not the container's.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { CpuTimes } from './cpu-rate.js';
import { parseProcStat } from './cpu-rate.js';

export interface PidStat {
  pid: number;
  pgrp: number;
  session: number;
  /** utime + stime + cutime + cstime, clock ticks. */
  ticks: number;
  /** Resident pages. */
  rssPages: number;
}

/** The fields of one /proc/<pid>/stat line that usage needs. */
export function parsePidStat(pid: number, text: string): PidStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") " come fields 3, 4, 5, ...: field n is at index n - 3.
  const f = text.slice(close + 2).split(' ');
  const n = (i: number): number => Number(f[i - 3]);
  const pgrp = n(5);
  const session = n(6);
  const ticks = n(14) + n(15) + n(16) + n(17);
  const rssPages = n(24);
  if (![pgrp, session, ticks, rssPages].every(Number.isFinite)) return undefined;
  return { pid, pgrp, session, ticks, rssPages };
}

function getconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

export interface HostUnits {
  ticksPerSecond: number;
  pageSize: number;
}

export function readHostUnits(): HostUnits {
  return { ticksPerSecond: getconf('CLK_TCK', 100), pageSize: getconf('PAGESIZE', 4096) };
}

/** Every process's stat, read in one pass. */
export async function readAllPidStats(procRoot = '/proc'): Promise<PidStat[]> {
  const names = await fs.readdir(procRoot);
  const out: PidStat[] = [];
  await Promise.all(names.filter((n) => /^\d+$/.test(n)).map(async (n) => {
    let text: string;
    try {
      text = await fs.readFile(`${procRoot}/${n}/stat`, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return; // exited meanwhile
      throw e;
    }
    const st = parsePidStat(Number(n), text);
    if (st) out.push(st);
  }));
  return out;
}

/** What a container's processes add up to. */
export interface GroupUsage {
  ticks: number;
  rssPages: number;
  processes: number;
}

/** Sums the processes whose session or process group is `leader`, for every leader asked for. */
export function groupUsage(stats: readonly PidStat[], leaders: readonly number[]): Map<number, GroupUsage> {
  const out = new Map<number, GroupUsage>(leaders.map((l) => [l, { ticks: 0, rssPages: 0, processes: 0 }]));
  for (const s of stats) {
    const u = out.get(s.session) ?? out.get(s.pgrp);
    if (!u) continue;
    u.ticks += s.ticks;
    u.rssPages += s.rssPages;
    u.processes += 1;
  }
  return out;
}

export async function readNodeCpu(): Promise<{ times: CpuTimes; cpus: number }> {
  return parseProcStat(await fs.readFile('/proc/stat', 'utf8'));
}
