// Per-kind server behaviour on writes (pure): what a create resets, which fields an update of
// the main resource or of `/status` may change, and which kinds count `generation`.
// Defaults and validation live in src/api; this is only what the server itself owns.
import type { KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';

/** Kinds whose spec changes bump `metadata.generation` (controllers report observedGeneration). */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Pod']);

export function tracksGeneration(info: ResourceInfo): boolean {
  return GENERATION_KINDS.has(info.kind);
}

/** Status on create: users cannot set it for kinds whose status a controller or node owns. */
export function prepareForCreate(info: ResourceInfo, obj: KubeObject): void {
  switch (info.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'StatefulSet':
      obj.status = {};
      break;
    case 'Pod':
      admitPod(obj);
      obj.status = { phase: 'Pending', qosClass: podQosClass(obj) };
      break;
    case 'Namespace':
      obj.status = { phase: 'Active' };
      break;
    case 'Service':
      obj.status = { loadBalancer: {} };
      break;
    default:
      break;
  }
}

/**
 * Merges an update into the stored object according to what the endpoint may change:
 * the main resource keeps the stored status; `/status` keeps everything but status.
 */
export function mergeForUpdate(info: ResourceInfo, incoming: KubeObject, old: KubeObject, subresource: 'status' | 'binding' | 'finalize' | undefined): KubeObject {
  const hasStatus = info.subresources.includes('status');
  if (subresource === 'binding' || subresource === 'finalize') return incoming;
  if (subresource === 'status') {
    const merged: KubeObject = { ...structuredClone(old), status: incoming.status };
    // Status writers may still move labels/annotations? Kubernetes ignores metadata changes on /status.
    merged.metadata = { ...old.metadata, resourceVersion: incoming.metadata?.resourceVersion ?? old.metadata?.resourceVersion };
    return merged;
  }
  if (hasStatus) return { ...incoming, status: old.status };
  return incoming;
}

type Resources = { requests?: Record<string, string>; limits?: Record<string, string> };

/** QoS class as Kubernetes computes it from container requests and limits. */
export function podQosClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const spec = (pod.spec ?? {}) as { containers?: { resources?: Resources }[]; initContainers?: { resources?: Resources }[] };
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l; // a request defaults to its limit
      if (l === undefined || q !== l) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * Seconds a pod stays bound to a NotReady or unreachable node before eviction (the
 * DefaultTolerationSeconds admission plugin; Kubernetes uses 300). 10 s so that, with the node
 * lifecycle controller's 8 s grace period, a lost node's pods are replaced within ~20 s
 * (timeline in docs/controllers.md). The only place this number lives.
 */
export const DEFAULT_TOLERATION_SECONDS = 10;

interface Toleration { key?: string; operator?: string; effect?: string; tolerationSeconds?: number }

/**
 * What Kubernetes' default admission plugins add to a new pod: its service account, priority,
 * and tolerations for not-ready/unreachable nodes (so eviction waits tolerationSeconds).
 */
export function admitPod(pod: KubeObject): void {
  const spec = (pod.spec ?? {}) as { serviceAccountName?: string; serviceAccount?: string; priority?: number; preemptionPolicy?: string; tolerations?: Toleration[] };
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations = spec.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const has = tolerations.some((t) => (t.key === key || (t.key === undefined && t.operator === 'Exists')) && (t.effect === undefined || t.effect === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
  spec.tolerations = tolerations;
  pod.spec = spec;
}
