// PodInfo: what the scheduler needs of a pod, computed once when the pod enters the cache
// or the queue, so that per-node checks never re-parse quantities or selectors.
// Guarantees: the raw pod is kept by reference and never modified; selectors that fail to
// parse select nothing (the API server validated them, so that only happens to hand-made
// objects). Does not: notice later changes to the pod — build a new PodInfo per version.
import type { NodeSelector, Pod, PodAffinityTerm, PreferredSchedulingTerm, Toleration } from 'kubernetes-types/core/v1.js';
import { labelSelectorFromObject, NOTHING, type LabelSelector } from '../api/selectors.js';
import { podRequests, type Resources } from './resources.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** A required or preferred pod (anti-)affinity term, parsed. */
export interface AffinityTerm {
  selector: LabelSelector;
  /** Namespaces named explicitly (the pod's own when neither this nor namespaceSelector is given). */
  namespaces: ReadonlySet<string>;
  /** `null`: no namespace selector; otherwise namespaces whose labels match also count. */
  namespaceSelector: LabelSelector | null;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

export interface HostPort {
  protocol: string;
  hostIP: string;
  port: number;
}

export interface PodInfo {
  readonly pod: Pod;
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly nodeName: string;
  readonly priority: number;
  readonly schedulerName: string;
  /** Effective requests (for fit). */
  readonly requests: Resources;
  /** Effective requests with defaults for unset cpu/memory (for scoring). */
  readonly nonZeroRequests: Resources;
  /** uid of the controlling owner (ReplicaSet, StatefulSet, ...), if any. */
  readonly ownerUid: string | undefined;
  readonly hostPorts: readonly HostPort[];
  readonly nodeSelector: Readonly<Record<string, string>> | undefined;
  readonly requiredNodeAffinity: NodeSelector | undefined;
  readonly preferredNodeAffinity: readonly PreferredSchedulingTerm[];
  readonly tolerations: readonly Toleration[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinity: readonly WeightedAffinityTerm[];
}

function selectorOf(sel: unknown): LabelSelector {
  try {
    return labelSelectorFromObject(sel);
  } catch {
    return NOTHING;
  }
}

function parseTerm(t: PodAffinityTerm, ownNamespace: string): AffinityTerm {
  const nsSel = t.namespaceSelector === undefined || t.namespaceSelector === null ? null : selectorOf(t.namespaceSelector);
  const names = t.namespaces ?? [];
  const namespaces = new Set(names.length === 0 && nsSel === null ? [ownNamespace] : names);
  return { selector: selectorOf(t.labelSelector), namespaces, namespaceSelector: nsSel, topologyKey: t.topologyKey };
}

function hostPortsOf(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const hostNetwork = pod.spec?.hostNetwork === true;
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      // With hostNetwork the container port is the host port (Kubernetes defaults it so).
      const port = p.hostPort ?? (hostNetwork ? p.containerPort : 0);
      if (!port) continue;
      out.push({ protocol: p.protocol ?? 'TCP', hostIP: p.hostIP || '0.0.0.0', port });
    }
  }
  return out;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export function newPodInfo(pod: Pod): PodInfo {
  const meta = pod.metadata ?? {};
  const spec = pod.spec;
  const namespace = meta.namespace ?? 'default';
  const aff = spec?.affinity;
  const req = (terms: PodAffinityTerm[] | undefined) => (terms ?? []).map((t) => parseTerm(t, namespace));
  const pref = (terms: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined) =>
    (terms ?? []).map((t) => ({ ...parseTerm(t.podAffinityTerm, namespace), weight: t.weight }));
  const owner = (meta.ownerReferences ?? []).find((o) => o.controller === true);
  return {
    pod,
    key: `${namespace}/${meta.name ?? ''}`,
    namespace,
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    labels: meta.labels ?? {},
    nodeName: spec?.nodeName ?? '',
    priority: spec?.priority ?? 0,
    schedulerName: spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME,
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, true),
    ownerUid: owner?.uid,
    hostPorts: hostPortsOf(pod),
    nodeSelector: spec?.nodeSelector,
    requiredNodeAffinity: aff?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    preferredNodeAffinity: aff?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [],
    tolerations: spec?.tolerations ?? [],
    requiredAffinity: req(aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAntiAffinity: req(aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinity: pref(aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinity: pref(aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
  };
}

/** Whether a pod (not yet assigned, not terminating) waits for this scheduler. */
export function isPendingFor(pod: Pod, schedulerName: string): boolean {
  const phase = pod.status?.phase;
  return !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed'
    && (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === schedulerName;
}
