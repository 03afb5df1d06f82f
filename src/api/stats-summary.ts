// The resource usage summary an agent serves at `GET /stats/summary` on its kubelet API, and the
// API server reads to answer metrics.k8s.io (src/apiserver/resource-metrics.ts). Field names
// follow the kubelet's Summary API (stats/v1alpha1) where it has one; `windowSeconds` is ours:
// the span of the two samples a CPU rate was computed from, which NodeMetrics/PodMetrics report
// as `window`. Guarantees: types only, shared by agent and server so both read one shape.

export interface CpuStats {
  /** RFC 3339 time of the later sample. */
  time: string;
  /** Cores in use over the window, in nanocores; absent when there is no earlier sample yet. */
  usageNanoCores?: number;
  /** CPU time used since the start (cumulative), in core-nanoseconds. */
  usageCoreNanoSeconds: number;
  /** The span of the two samples behind usageNanoCores. */
  windowSeconds?: number;
}

export interface MemoryStats {
  time: string;
  /** Memory in use: resident set of the container's processes; MemTotal − MemAvailable for a node. */
  workingSetBytes: number;
  /** Resident set size (sum over processes). */
  rssBytes?: number;
  /** For a node: MemAvailable. */
  availableBytes?: number;
}

export interface ContainerStats {
  name: string;
  /** RFC 3339. */
  startTime: string;
  cpu: CpuStats;
  memory: MemoryStats;
  /** Processes counted (the container's session and process group). */
  processes: number;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime?: string;
  containers: ContainerStats[];
}

export interface NodeStats {
  nodeName: string;
  cpu: CpuStats;
  memory: MemoryStats;
}

export interface StatsSummary {
  node: NodeStats;
  pods: PodStats[];
}
