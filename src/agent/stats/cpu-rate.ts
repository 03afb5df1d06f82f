// CPU usage as a rate, from two samples of a cumulative counter (pure).
// A process's counter is its CPU time in clock ticks (/proc/<pid>/stat utime+stime, plus
// cutime+cstime: the children it reaped, so a short-lived child's time is not lost); a node's is
// /proc/stat's busy and total jiffies. Guarantees: the answer is in cores (1 = one CPU busy for
// the whole window), never negative, never NaN; undefined when the two samples cannot give a rate
// (same or reversed time, a counter that went backwards — the processes it summed were replaced
// or reaped by someone outside — or a node whose total did not advance). Does not read anything.

export interface CounterSample {
  /** Cumulative CPU time, in seconds. */
  cpuSeconds: number;
  /** When it was read, ms since the epoch. */
  atMs: number;
}

/** Cores in use between two samples of one counter; undefined when they give no rate. */
export function cpuCores(prev: CounterSample, cur: CounterSample): number | undefined {
  const elapsed = (cur.atMs - prev.atMs) / 1000;
  if (!(elapsed > 0)) return undefined;
  const used = cur.cpuSeconds - prev.cpuSeconds;
  if (!Number.isFinite(used) || used < 0) return undefined;
  return used / elapsed;
}

/** The first line of /proc/stat (`cpu  user nice system idle iowait irq softirq steal …`), in jiffies. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Busy and total jiffies of /proc/stat's aggregate `cpu` line; guest time is inside user already. */
export function parseProcStat(text: string): { times: CpuTimes; cpus: number } {
  const lines = text.split('\n');
  const agg = lines.find((l) => l.startsWith('cpu '));
  if (!agg) throw new Error('/proc/stat has no aggregate cpu line');
  const f = agg.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) throw new Error(`unexpected /proc/stat cpu line: ${agg.slice(0, 80)}`);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  const cpus = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  return { times: { busy, total: busy + idle + iowait }, cpus: Math.max(1, cpus) };
}

/**
 * Cores in use on the node between two /proc/stat readings: the busy share of all jiffies that
 * passed, times the CPU count. Needs no clock (jiffies are the clock), so it cannot be skewed by
 * a late sample.
 */
export function nodeCpuCores(prev: CpuTimes, cur: CpuTimes, cpus: number): number | undefined {
  const total = cur.total - prev.total;
  const busy = cur.busy - prev.busy;
  if (!(total > 0) || busy < 0 || !Number.isFinite(busy)) return undefined;
  return Math.min(1, busy / total) * cpus;
}
