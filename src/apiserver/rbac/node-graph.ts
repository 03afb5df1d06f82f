// The node authorizer's graph (Kubernetes' node authorizer keeps the same edges): which node each
// pod is bound to, and which Secrets, ConfigMaps and ServiceAccounts the pods bound to a node
// reference. `podReferences` is pure; `NodeGraph` is an incremental index (reference-counted, so
// a Secret two pods of a node use stays reachable until both are gone) that the same pods give
// the same answers whatever order they arrive in. Guarantees: a pod without spec.nodeName grants
// nothing; an update that moves or changes a pod replaces all its edges. Does not: know
// PersistentVolumeClaims or PersistentVolumes (Trireme serves neither), or drop the edges of
// pods that have finished (they remain until the pod is deleted, as in Kubernetes).
import type { KubeObject } from '../../api/object.js';

export type ReferencedKind = 'secrets' | 'configmaps' | 'serviceaccounts';

/** What one pod references, by kind (names in the pod's namespace). */
export interface PodReferences {
  secrets: Set<string>;
  configmaps: Set<string>;
  serviceaccounts: Set<string>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function addName(set: Set<string>, v: unknown): void {
  const s = str(v);
  if (s !== undefined) set.add(s);
}

/**
 * Every Secret, ConfigMap and ServiceAccount the pod's spec names: volumes (secret, configMap,
 * projected sources), env valueFrom and envFrom of init, regular and ephemeral containers,
 * imagePullSecrets, and the pod's service account.
 */
export function podReferences(pod: KubeObject): PodReferences {
  const out: PodReferences = { secrets: new Set(), configmaps: new Set(), serviceaccounts: new Set() };
  const spec = obj(pod.spec) ?? {};
  for (const v of arr(spec.volumes)) {
    const vol = obj(v) ?? {};
    addName(out.secrets, obj(vol.secret)?.secretName);
    addName(out.configmaps, obj(vol.configMap)?.name);
    for (const s of arr(obj(vol.projected)?.sources)) {
      addName(out.secrets, obj(obj(s)?.secret)?.name);
      addName(out.configmaps, obj(obj(s)?.configMap)?.name);
    }
  }
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)]) {
    const container = obj(c) ?? {};
    for (const f of arr(container.envFrom)) {
      addName(out.secrets, obj(obj(f)?.secretRef)?.name);
      addName(out.configmaps, obj(obj(f)?.configMapRef)?.name);
    }
    for (const e of arr(container.env)) {
      const from = obj(obj(e)?.valueFrom);
      addName(out.secrets, obj(from?.secretKeyRef)?.name);
      addName(out.configmaps, obj(from?.configMapKeyRef)?.name);
    }
  }
  for (const s of arr(spec.imagePullSecrets)) addName(out.secrets, obj(s)?.name);
  addName(out.serviceaccounts, spec.serviceAccountName ?? spec.serviceAccount);
  return out;
}

/** What the authorizer asks of the graph. */
export interface NodeGraphView {
  /** The node the pod `namespace/name` is bound to; undefined when unknown or unbound. */
  nodeOfPod(namespace: string, name: string): string | undefined;
  /** Whether a pod bound to `node` references `kind` `namespace/name`. */
  references(node: string, kind: ReferencedKind, namespace: string, name: string): boolean;
}

interface PodEntry {
  node: string;
  keys: string[];
}

export class NodeGraph implements NodeGraphView {
  private readonly pods = new Map<string, PodEntry>();
  /** node → `kind/namespace/name` → how many of its pods reference it. */
  private readonly edges = new Map<string, Map<string, number>>();

  /** Adds or replaces a pod's edges. */
  upsert(pod: KubeObject): void {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.remove(ns, name);
    const node = str(obj(pod.spec)?.nodeName);
    if (node === undefined) return;
    const refs = podReferences(pod);
    const keys: string[] = [];
    for (const kind of ['secrets', 'configmaps', 'serviceaccounts'] as const) for (const n of refs[kind]) keys.push(`${kind}/${ns}/${n}`);
    let counts = this.edges.get(node);
    if (!counts) this.edges.set(node, (counts = new Map()));
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    this.pods.set(`${ns}/${name}`, { node, keys });
  }

  remove(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const entry = this.pods.get(key);
    if (!entry) return;
    this.pods.delete(key);
    const counts = this.edges.get(entry.node);
    if (!counts) return;
    for (const k of entry.keys) {
      const n = (counts.get(k) ?? 0) - 1;
      if (n > 0) counts.set(k, n);
      else counts.delete(k);
    }
    if (counts.size === 0) this.edges.delete(entry.node);
  }

  nodeOfPod(namespace: string, name: string): string | undefined {
    return this.pods.get(`${namespace}/${name}`)?.node;
  }

  references(node: string, kind: ReferencedKind, namespace: string, name: string): boolean {
    return (this.edges.get(node)?.get(`${kind}/${namespace}/${name}`) ?? 0) > 0;
  }
}

/** The graph of a set of pods (tests; the cache feeds a NodeGraph incrementally). */
export function buildNodeGraph(pods: readonly KubeObject[]): NodeGraph {
  const g = new NodeGraph();
  for (const p of pods) g.upsert(p);
  return g;
}
