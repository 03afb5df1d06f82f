// ClusterCache: the scheduler's picture of the cluster — nodes with the pods counted
// against them (bound pods from the informer plus "assumed" pods the scheduler has just
// placed but the informer has not yet reported bound), namespaces' labels and Services'
// selectors. It is the Snapshot decisions read.
// Guarantees: a pod is counted on at most one node at a time; an assumed pod counts until
// the informer reports it (bound, which confirms it, or deleted) or `forget` is called;
// pods bound to a node the cache has not seen yet are kept and counted once it appears;
// terminal pods (Succeeded/Failed) never count. Does not: expire assumptions on a timer —
// the caller forgets them when a bind fails.
import type { Namespace, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { labelSelectorFromObject, matchesLabels, type LabelSelector } from '../api/selectors.js';
import { NodeInfo } from './node-info.js';
import { newPodInfo, podKey, type PodInfo } from './pod-info.js';
import type { Snapshot } from './snapshot.js';

interface PodEntry {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
}

export class ClusterCache implements Snapshot {
  /** Every NodeInfo, including placeholders for nodes only named by pods. */
  private readonly infos = new Map<string, NodeInfo>();
  private readonly known = new Set<string>();
  private list: NodeInfo[] | null = null;
  private readonly pods = new Map<string, PodEntry>();
  private readonly namespaces = new Map<string, Readonly<Record<string, string>>>();
  private readonly services = new Map<string, Map<string, LabelSelector>>();

  get nodeList(): readonly NodeInfo[] {
    this.list ??= [...this.known].sort().map((n) => this.infos.get(n) as NodeInfo);
    return this.list;
  }

  getNode(name: string): NodeInfo | undefined {
    return this.known.has(name) ? this.infos.get(name) : undefined;
  }

  get nodeCount(): number {
    return this.known.size;
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(namespace);
  }

  serviceSelectors(pod: PodInfo): readonly LabelSelector[] {
    const svcs = this.services.get(pod.namespace);
    if (!svcs || svcs.size === 0) return [];
    const out: LabelSelector[] = [];
    for (const sel of svcs.values()) if (matchesLabels(sel, pod.labels)) out.push(sel);
    return out;
  }

  // ---- nodes

  setNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.infos.get(name);
    if (info) info.setNode(node);
    else this.infos.set(name, new NodeInfo(node));
    if (!this.known.has(name)) {
      this.known.add(name);
      this.list = null;
    }
  }

  removeNode(name: string): void {
    if (!this.known.delete(name)) return;
    this.list = null;
    const info = this.infos.get(name);
    // Pods still bound there keep a placeholder until they go, like kube-scheduler's cache.
    if (info && info.pods.size === 0) this.infos.delete(name);
  }

  // ---- pods

  /** The node a pod counts against, if any, and whether that is only assumed. */
  podState(key: string): { nodeName: string; assumed: boolean } | undefined {
    const e = this.pods.get(key);
    return e ? { nodeName: e.nodeName, assumed: e.assumed } : undefined;
  }

  get podCount(): number {
    return this.pods.size;
  }

  /** Records the informer's view of a pod: bound pods count, others (and terminal ones) do not. */
  setPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName ?? '';
    const phase = pod.status?.phase;
    if (!nodeName || phase === 'Succeeded' || phase === 'Failed') {
      // Not bound yet: an assumption made for it stays until confirmed or forgotten.
      const e = this.pods.get(key);
      if (e && !e.assumed) this.removePod(key);
      return;
    }
    const e = this.pods.get(key);
    // Same version of a bound pod we already have (e.g. a relist): nothing to recount.
    if (e && !e.assumed && e.info.pod === pod) return;
    this.place(key, newPodInfo(pod), nodeName, false);
  }

  removePod(key: string): void {
    const e = this.pods.get(key);
    if (!e) return;
    this.pods.delete(key);
    this.unplace(key, e.nodeName);
  }

  /** Counts a pod against `nodeName` before the API has confirmed the binding. */
  assume(info: PodInfo, nodeName: string): void {
    this.place(info.key, info, nodeName, true);
  }

  /** Drops an assumption (the bind failed); a confirmed pod is left alone. */
  forget(key: string): void {
    const e = this.pods.get(key);
    if (e?.assumed) this.removePod(key);
  }

  private place(key: string, info: PodInfo, nodeName: string, assumed: boolean): void {
    const old = this.pods.get(key);
    if (old && old.nodeName !== nodeName) this.unplace(key, old.nodeName);
    this.pods.set(key, { info, nodeName, assumed });
    let ni = this.infos.get(nodeName);
    if (!ni) {
      ni = new NodeInfo({ metadata: { name: nodeName } });
      this.infos.set(nodeName, ni);
    }
    ni.addPod(info);
  }

  private unplace(key: string, nodeName: string): void {
    const ni = this.infos.get(nodeName);
    if (!ni) return;
    ni.removePod(key);
    if (ni.pods.size === 0 && !this.known.has(nodeName)) this.infos.delete(nodeName);
  }

  // ---- namespaces and services

  setNamespace(ns: Namespace): void {
    this.namespaces.set(ns.metadata?.name ?? '', ns.metadata?.labels ?? {});
  }

  removeNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  setService(svc: Service): void {
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const sel = svc.spec?.selector;
    // A Service without a selector (or with an empty one) selects no pods for spreading.
    if (!sel || Object.keys(sel).length === 0) return this.removeService(ns, name);
    let m = this.services.get(ns);
    if (!m) this.services.set(ns, (m = new Map()));
    try {
      m.set(name, labelSelectorFromObject({ matchLabels: sel }));
    } catch {
      // An invalid selector (only on hand-made objects; the API validates) selects nothing.
      m.delete(name);
    }
  }

  removeService(namespace: string, name: string): void {
    const m = this.services.get(namespace);
    if (!m) return;
    m.delete(name);
    if (m.size === 0) this.services.delete(namespace);
  }
}
