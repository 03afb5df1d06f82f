// The node's conditions from host readings (pure): MemoryPressure, DiskPressure, PIDPressure
// against the thresholds (thresholds.ts), and Ready from the runtime's health.
// Guarantees: a signal below its threshold makes its condition True now, and it stays True until
// the signal has been clear for the whole transition period (the kubelet's
// --eviction-pressure-transition-period: no flapping taints around a threshold); the returned
// memory says when each signal was last below. DiskPressure looks at every filesystem read
// (the agent's data dir and its container-log dir) and names the one under pressure. A reading
// that is missing gives status Unknown with the reason, never a guess. Ready is False with
// reason KubeletNotReady and the runtime's problems when it cannot start containers.
// Does not: read anything (readings.ts does), keep timestamps (node-object.ts), or evict.
import { formatBytes, formatThreshold, thresholdAmount, type Signal, type SystemReserved, type Thresholds } from './thresholds.js';

export interface MemoryReading {
  totalBytes: number;
  /** /proc/meminfo MemAvailable. */
  availableBytes: number;
}

export interface FsReading {
  /** The directories this filesystem holds, e.g. the data dir and the log dir. */
  paths: string[];
  capacityBytes: number;
  /** Free to unprivileged users (statfs bavail). */
  availableBytes: number;
  /** 0 when the filesystem does not count inodes (the inode signal is then not applicable). */
  inodes: number;
  inodesFree: number;
}

export interface PidReading {
  /** min(/proc/sys/kernel/pid_max, /proc/sys/kernel/threads-max). */
  limit: number;
  /** Tasks (processes and threads) alive now. */
  inUse: number;
}

/** What the edge read; an `error` string in place of a reading when it could not be read. */
export interface HostReadings {
  memory: MemoryReading | { error: string };
  filesystems: FsReading[] | { error: string };
  pids: PidReading | { error: string };
  /** Why the runtime cannot start containers; empty when it can. */
  runtimeProblems: string[];
}

export type ConditionType = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' | 'Ready';

export interface ConditionDecision {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** When each signal was last seen below its threshold (ms). */
export type PressureMemory = Readonly<Partial<Record<Signal, number>>>;

export interface ConditionInputs {
  readings: HostReadings;
  thresholds: Thresholds;
  reserved: SystemReserved;
  /** How long a condition stays True after its signal cleared. */
  transitionMs: number;
  memory: PressureMemory;
  now: number;
}

interface Observation {
  signal: Signal;
  below: boolean;
  detail: string;
}

function isError<T extends object>(r: T | { error: string }): r is { error: string } {
  return 'error' in r;
}

function memoryObservations(m: MemoryReading, th: Thresholds): Observation[] {
  const t = th['memory.available'];
  const limit = thresholdAmount(t, m.totalBytes);
  return [{
    signal: 'memory.available',
    below: m.availableBytes < limit,
    detail: `memory.available ${formatBytes(m.availableBytes)} of ${formatBytes(m.totalBytes)} (threshold ${formatThreshold(t, 'bytes')})`,
  }];
}

function diskObservations(fss: FsReading[], th: Thresholds): Observation[] {
  const out: Observation[] = [];
  for (const fs of fss) {
    const where = fs.paths.join(', ');
    const t = th['nodefs.available'];
    out.push({
      signal: 'nodefs.available',
      below: fs.availableBytes < thresholdAmount(t, fs.capacityBytes),
      detail: `nodefs.available ${formatBytes(fs.availableBytes)} of ${formatBytes(fs.capacityBytes)} on ${where} (threshold ${formatThreshold(t, 'bytes')})`,
    });
    if (fs.inodes > 0) {
      const ti = th['nodefs.inodesFree'];
      out.push({
        signal: 'nodefs.inodesFree',
        below: fs.inodesFree < thresholdAmount(ti, fs.inodes),
        detail: `nodefs.inodesFree ${fs.inodesFree} of ${fs.inodes} on ${where} (threshold ${formatThreshold(ti, 'count')})`,
      });
    }
  }
  return out;
}

function pidObservations(p: PidReading, th: Thresholds, reservedPids: number): Observation[] {
  const t = th['pid.available'];
  // The reservation is kept for the system: pods' headroom is what is left above it.
  const budget = Math.max(0, p.limit - reservedPids);
  const available = budget - p.inUse;
  const reserved = reservedPids ? `, ${reservedPids} reserved` : '';
  return [{
    signal: 'pid.available',
    below: available < thresholdAmount(t, budget),
    detail: `pid.available ${available} of ${p.limit}${reserved} (threshold ${formatThreshold(t, 'count')})`,
  }];
}

const PRESSURE = {
  MemoryPressure: {
    signals: ['memory.available'] as Signal[],
    ok: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    bad: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
  },
  DiskPressure: {
    signals: ['nodefs.available', 'nodefs.inodesFree'] as Signal[],
    ok: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    bad: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
  },
  PIDPressure: {
    signals: ['pid.available'] as Signal[],
    ok: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    bad: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
  },
} as const;

function pressure(type: keyof typeof PRESSURE, obs: Observation[] | { error: string }, inp: ConditionInputs, memory: Partial<Record<Signal, number>>): ConditionDecision {
  const spec = PRESSURE[type];
  if (isError(obs)) return { type, status: 'Unknown', reason: 'KubeletCannotReadHost', message: `kubelet cannot read the host: ${obs.error}` };
  const below = obs.filter((o) => o.below);
  for (const o of below) memory[o.signal] = inp.now;
  if (below.length) return { type, status: 'True', reason: spec.bad[0], message: `${spec.bad[1]}: ${below.map((o) => o.detail).join('; ')}` };
  const recent = spec.signals
    .map((s) => ({ s, at: inp.memory[s] }))
    .filter((x): x is { s: Signal; at: number } => x.at !== undefined && inp.now - x.at < inp.transitionMs);
  if (recent.length) {
    const ago = Math.round((inp.now - Math.max(...recent.map((r) => r.at))) / 1000);
    return {
      type, status: 'True', reason: spec.bad[0],
      message: `${spec.bad[1]}: ${recent.map((r) => r.s).join(', ')} was below its threshold ${ago}s ago (transition period ${Math.round(inp.transitionMs / 1000)}s)`,
    };
  }
  return { type, status: 'False', reason: spec.ok[0], message: spec.ok[1] };
}

export interface ConditionsResult {
  conditions: ConditionDecision[];
  memory: PressureMemory;
}

export function decideConditions(inp: ConditionInputs): ConditionsResult {
  const r = inp.readings;
  const memory: Partial<Record<Signal, number>> = { ...inp.memory };
  const mem = isError(r.memory) ? r.memory : memoryObservations(r.memory, inp.thresholds);
  const disk = isError(r.filesystems) ? r.filesystems : diskObservations(r.filesystems, inp.thresholds);
  const pid = isError(r.pids) ? r.pids : pidObservations(r.pids, inp.thresholds, inp.reserved.pid);
  const ready: ConditionDecision = r.runtimeProblems.length
    ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: `container runtime cannot start containers: ${r.runtimeProblems.join('; ')}` }
    : { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
  return {
    conditions: [pressure('MemoryPressure', mem, inp, memory), pressure('DiskPressure', disk, inp, memory), pressure('PIDPressure', pid, inp, memory), ready],
    memory,
  };
}
