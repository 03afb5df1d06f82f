// CPU time of a process, read from Linux's /proc, so that a benchmark can report how much
// server CPU each request cost (a figure that, unlike requests/s, hardly moves when other
// processes compete for the CPUs).
// Guarantees: user + system time of the whole process (all threads), in ms, at the kernel's
// tick resolution (USER_HZ, 100 on Linux: 10 ms); undefined where /proc is unavailable.
// Does not: include children of the process.
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

/** Parses the utime and stime fields (14 and 15) of a /proc/<pid>/stat line into ms. */
export function parseProcStatCpuMs(stat: string): number | undefined {
  // The command name (field 2) is in parentheses and may hold spaces: split after its end.
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / USER_HZ;
}

export function processCpuMs(pid: number): number | undefined {
  try {
    return parseProcStatCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}
