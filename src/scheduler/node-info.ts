// NodeInfo: one node plus running aggregates of the pods counted against it (bound and
// assumed), updated incrementally so that every filter and score reads O(1) data.
// Guarantees: after any sequence of addPod/removePod, `requested`, `nonZeroRequested`,
// `usedPorts`, `ownerCounts` and `podsWithRequiredAntiAffinity` equal what a full recount of
// `pods` would give; removing a pod that is not there is a no-op. Does not: hold a deep copy
// of the Node — the raw object is shared and must be treated as read-only.
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import type { PodInfo } from './pod-info.js';
import { emptyResources, nodeAllocatable, type Resources } from './resources.js';

export class NodeInfo {
  readonly name: string;
  node!: Node;
  labels!: Readonly<Record<string, string>>;
  ready!: boolean;
  unschedulable!: boolean;
  taints!: readonly Taint[];
  allocatable!: Resources;

  readonly pods = new Map<string, PodInfo>();
  readonly requested: Resources = emptyResources();
  readonly nonZeroRequested: Resources = emptyResources();
  /** `protocol/port` → hostIP → number of pods using it. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  /** controller owner uid → number of its pods here. */
  readonly ownerCounts = new Map<string, number>();
  readonly podsWithRequiredAntiAffinity = new Map<string, PodInfo>();
  /** Pods with any pod (anti-)affinity term, for the symmetric checks. */
  readonly podsWithAffinity = new Map<string, PodInfo>();

  constructor(node: Node) {
    this.name = node.metadata?.name ?? '';
    this.setNode(node);
  }

  /** Replaces the Node object (labels, taints, allocatable, conditions) keeping the pods. */
  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? {};
    this.ready = (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    this.unschedulable = node.spec?.unschedulable === true;
    this.taints = node.spec?.taints ?? [];
    this.allocatable = nodeAllocatable(node);
  }

  addPod(p: PodInfo): void {
    if (this.pods.has(p.key)) this.removePod(p.key);
    this.pods.set(p.key, p);
    this.account(p, 1);
  }

  removePod(key: string): PodInfo | undefined {
    const p = this.pods.get(key);
    if (!p) return undefined;
    this.pods.delete(key);
    this.account(p, -1);
    return p;
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    addScaled(this.requested, p.requests, sign);
    addScaled(this.nonZeroRequested, p.nonZeroRequests, sign);
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, (ips = new Map()));
      const n = (ips.get(hp.hostIP) ?? 0) + sign;
      if (n > 0) ips.set(hp.hostIP, n);
      else ips.delete(hp.hostIP);
      if (ips.size === 0) this.usedPorts.delete(k);
    }
    if (p.ownerUid !== undefined) {
      const n = (this.ownerCounts.get(p.ownerUid) ?? 0) + sign;
      if (n > 0) this.ownerCounts.set(p.ownerUid, n);
      else this.ownerCounts.delete(p.ownerUid);
    }
    const hasAnti = p.requiredAntiAffinity.length > 0;
    const hasAny = hasAnti || p.requiredAffinity.length > 0 || p.preferredAffinity.length > 0 || p.preferredAntiAffinity.length > 0;
    if (sign > 0) {
      if (hasAnti) this.podsWithRequiredAntiAffinity.set(p.key, p);
      if (hasAny) this.podsWithAffinity.set(p.key, p);
    } else {
      this.podsWithRequiredAntiAffinity.delete(p.key);
      this.podsWithAffinity.delete(p.key);
    }
  }
}

function addScaled(into: Resources, r: Resources, sign: number): void {
  into.milliCpu += sign * r.milliCpu;
  into.memory += sign * r.memory;
  into.pods += sign * r.pods;
  if (r.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + sign * v);
  }
}
