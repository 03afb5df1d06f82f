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

/** Busy (non-idle, non-iowait) time of all CPUs together from the first line of /proc/stat, in ms. */
export function parseMachineBusyMs(procStat: string): number | undefined {
  const line = procStat.split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/);
  if (f[0] !== 'cpu') return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const n = f.slice(1, 9).map(Number);
  if (n.length < 8 || n.some((x) => !Number.isFinite(x))) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = n as [number, number, number, number, number, number, number, number];
  return ((user + nice + system + irq + softirq + steal) * 1000) / USER_HZ;
}

export function machineBusyMs(): number | undefined {
  try {
    return parseMachineBusyMs(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** CPU counters at one moment: this process, optionally another one, and the whole machine. */
export interface CpuSnapshot {
  atMs: number;
  selfMs: number;
  pidMs?: number;
  machineMs?: number;
}

export interface CpuUsage {
  wallMs: number;
  /** CPU used by this process (all threads). */
  selfMs: number;
  /** CPU used by the other process of the snapshot. */
  pidMs?: number;
  /** CPU used by everything else on the machine, in percent of all CPUs: the noise. */
  otherPct?: number;
}

const selfCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export function cpuSnapshot(pid?: number): CpuSnapshot {
  const pidMs = pid === undefined ? undefined : processCpuMs(pid);
  const machineMs = machineBusyMs();
  return { atMs: performance.now(), selfMs: selfCpuMs(), ...(pidMs === undefined ? {} : { pidMs }), ...(machineMs === undefined ? {} : { machineMs }) };
}

/** Usage between two snapshots (taken with the same pid) on a machine with `cpus` CPUs. */
export function cpuUsage(a: CpuSnapshot, b: CpuSnapshot, cpus: number): CpuUsage {
  const wallMs = b.atMs - a.atMs;
  const selfMs = b.selfMs - a.selfMs;
  const pidMs = a.pidMs === undefined || b.pidMs === undefined ? undefined : b.pidMs - a.pidMs;
  const machine = a.machineMs === undefined || b.machineMs === undefined ? undefined : b.machineMs - a.machineMs;
  const other = machine === undefined || wallMs <= 0 ? undefined : Math.max(0, (100 * (machine - selfMs - (pidMs ?? 0))) / (wallMs * cpus));
  return { wallMs, selfMs, ...(pidMs === undefined ? {} : { pidMs }), ...(other === undefined ? {} : { otherPct: other }) };
}
