// Resource usage of the node and of each running container, sampled every `periodMs` and kept as
// the last two samples, so that `summary()` answers at once with rates over a known window (as
// the kubelet's Summary API does from its housekeeping samples).
// Guarantees: one sample reads /proc once for all containers; a container's CPU rate comes only
// from two samples of the same instance (pod uid, name, attempt, pid), so a restart never yields
// a rate across two processes; a sample that fails is logged once per distinct error and leaves
// the previous samples in place. Does not: keep history beyond two samples, or sample faster
// than asked when summaries are requested often.
import type { ContainerStats, CpuStats, PodStats, StatsSummary } from '../../api/stats-summary.js';
import { kubeTime } from '../../api/time.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { parseMeminfo } from '../node/readings.js';
import type { RunningContainer } from '../pods/manager.js';
import { cpuCores, nodeCpuCores, type CpuTimes } from './cpu-rate.js';
import { groupUsage, readAllPidStats, readHostUnits, readNodeCpu, type GroupUsage, type HostUnits, type PidStat } from './proc-read.js';
import { promises as fs } from 'node:fs';

export const DEFAULT_STATS_PERIOD_MS = 5_000;

interface ContainerSample {
  target: RunningContainer;
  usage: GroupUsage;
}

interface Sample {
  atMs: number;
  cpu: { times: CpuTimes; cpus: number };
  memory: { totalBytes: number; availableBytes: number };
  containers: Map<string, ContainerSample>;
}

/** What one sample reads; tests hand in their own. */
export interface StatsSources {
  nodeCpu(): Promise<{ times: CpuTimes; cpus: number }>;
  meminfo(): Promise<{ totalBytes: number; availableBytes: number }>;
  pidStats(): Promise<PidStat[]>;
  units: HostUnits;
}

export const procSources = (): StatsSources => ({
  nodeCpu: readNodeCpu,
  meminfo: async () => parseMeminfo(await fs.readFile('/proc/meminfo', 'utf8')),
  pidStats: () => readAllPidStats(),
  units: readHostUnits(),
});

export interface ResourceSamplerOptions {
  nodeName: string;
  /** The running containers right now (src/agent/pods/manager.ts). */
  containers(): Promise<RunningContainer[]>;
  clock: Clock;
  logger: Logger;
  periodMs?: number;
  sources?: StatsSources;
}

const key = (t: RunningContainer): string => `${t.podUid}/${t.container}/${t.attempt}/${t.pid}`;

export class ResourceSampler {
  private prev: Sample | undefined;
  private cur: Sample | undefined;
  private timer: Timer | undefined;
  private stopped = false;
  private lastError = '';
  private readonly sources: StatsSources;

  constructor(private readonly o: ResourceSamplerOptions) {
    this.sources = o.sources ?? procSources();
  }

  /** Takes a first sample now, then one every period. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      void this.sample().finally(() => {
        if (!this.stopped) this.timer = this.o.clock.setTimeout(tick, this.o.periodMs ?? DEFAULT_STATS_PERIOD_MS);
      });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
  }

  /** Reads one sample; the previous one becomes the start of the window. */
  async sample(): Promise<void> {
    try {
      const targets = await this.o.containers();
      const [cpu, memory, pids] = await Promise.all([this.sources.nodeCpu(), this.sources.meminfo(), this.sources.pidStats()]);
      const atMs = this.o.clock.now();
      const usage = groupUsage(pids, targets.map((t) => t.pid));
      const containers = new Map<string, ContainerSample>();
      for (const t of targets) {
        const u = usage.get(t.pid);
        // No process left in the group: the container is exiting; the pod workers will notice.
        if (u && u.processes > 0) containers.set(key(t), { target: t, usage: u });
      }
      this.prev = this.cur;
      this.cur = { atMs, cpu, memory, containers };
      this.lastError = '';
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.o.logger.warn({ err: e }, 'reading resource usage failed');
      this.lastError = msg;
    }
  }

  /** The node and its pods' usage over the last window; undefined before the first sample. */
  summary(): StatsSummary | undefined {
    const cur = this.cur;
    if (!cur) return undefined;
    const prev = this.prev;
    const { ticksPerSecond, pageSize } = this.sources.units;
    const time = kubeTime(cur.atMs);
    const windowSeconds = prev ? (cur.atMs - prev.atMs) / 1000 : undefined;
    const withRate = (cores: number | undefined, cumulativeSeconds: number): CpuStats => ({
      time, usageCoreNanoSeconds: Math.round(cumulativeSeconds * 1e9),
      ...(cores !== undefined && windowSeconds !== undefined ? { usageNanoCores: Math.round(cores * 1e9), windowSeconds } : {}),
    });

    const nodeCores = prev ? nodeCpuCores(prev.cpu.times, cur.cpu.times, cur.cpu.cpus) : undefined;
    // /proc/stat counts USER_HZ jiffies summed over CPUs.
    const node = {
      nodeName: this.o.nodeName,
      cpu: withRate(nodeCores, cur.cpu.times.busy / ticksPerSecond),
      memory: { time, workingSetBytes: cur.memory.totalBytes - cur.memory.availableBytes, availableBytes: cur.memory.availableBytes },
    };

    const pods = new Map<string, PodStats>();
    for (const [k, c] of cur.containers) {
      const t = c.target;
      const seconds = c.usage.ticks / ticksPerSecond;
      const before = prev?.containers.get(k);
      const cores = before && prev ? cpuCores({ cpuSeconds: before.usage.ticks / ticksPerSecond, atMs: prev.atMs }, { cpuSeconds: seconds, atMs: cur.atMs }) : undefined;
      const rss = c.usage.rssPages * pageSize;
      const stats: ContainerStats = {
        name: t.container, startTime: kubeTime(t.startedAt), processes: c.usage.processes,
        cpu: withRate(cores, seconds), memory: { time, workingSetBytes: rss, rssBytes: rss },
      };
      let pod = pods.get(t.podUid);
      if (!pod) {
        pod = { podRef: { name: t.podName, namespace: t.namespace, uid: t.podUid }, ...(t.podStartTime ? { startTime: t.podStartTime } : {}), containers: [] };
        pods.set(t.podUid, pod);
      }
      pod.containers.push(stats);
    }
    for (const p of pods.values()) p.containers.sort((a, b) => a.name.localeCompare(b.name));
    return { node, pods: [...pods.values()] };
  }
}
