// Pods (pure): what the default admission plugins add to a new pod, its QoS class, and
// graceful deletion. Guarantees: a pod bound to a node and not finished is only marked on
// delete (deletionTimestamp = now + grace, grace from the request, else the pod's
// terminationGracePeriodSeconds, else 30 s); its node confirms with a zero-grace delete. A
// second delete may shorten the grace, never lengthen it. Does not: remove the pod when the
// grace runs out (the agent or the node lifecycle controller does).
import type { KubeObject } from '../../api/object.js';
import { kubeTime } from '../../api/time.js';
import { finalizersAfterDelete, planDelete, type DeletePlan, type DeleteRequest } from './delete-plan.js';
import { GENERIC } from './generic.js';
import type { Strategy } from './strategy.js';

/** Grace period of a pod that names none (Kubernetes' default). */
export const DEFAULT_GRACE_SECONDS = 30;

/**
 * Seconds a pod stays bound to a NotReady or unreachable node before eviction (the
 * DefaultTolerationSeconds admission plugin; Kubernetes uses 300). 10 s so that, with the node
 * lifecycle controller's 8 s grace period, a lost node's pods are replaced within ~20 s
 * (timeline in docs/controllers.md). The only place this number lives.
 */
export const DEFAULT_TOLERATION_SECONDS = 10;

type Resources = { requests?: Record<string, string>; limits?: Record<string, string> };
interface Toleration { key?: string; operator?: string; effect?: string; tolerationSeconds?: number }
interface PodSpec {
  nodeName?: string; terminationGracePeriodSeconds?: number; serviceAccountName?: string; serviceAccount?: string;
  priority?: number; preemptionPolicy?: string; tolerations?: Toleration[];
  containers?: { resources?: Resources }[]; initContainers?: { resources?: Resources }[];
}

/** QoS class as Kubernetes computes it from container requests and limits. */
export function podQosClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const spec = (pod.spec ?? {}) as PodSpec;
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
 * What Kubernetes' default admission plugins add to a new pod: its service account, priority,
 * and tolerations for not-ready/unreachable nodes (so eviction waits tolerationSeconds).
 */
export function admitPod(pod: KubeObject): KubeObject {
  const spec: PodSpec = { ...((pod.spec ?? {}) as PodSpec) };
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations = [...(spec.tolerations ?? [])];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const has = tolerations.some((t) => (t.key === key || (t.key === undefined && t.operator === 'Exists')) && (t.effect === undefined || t.effect === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
  spec.tolerations = tolerations;
  return { ...pod, spec };
}

/** A pod still running on a node is marked for its grace period; any other pod follows the common rule. */
export function planPodDelete(current: KubeObject, req: DeleteRequest, now: number): DeletePlan {
  const spec = (current.spec ?? {}) as PodSpec;
  const phase = (current.status as { phase?: string } | undefined)?.phase;
  const running = Boolean(spec.nodeName) && phase !== 'Succeeded' && phase !== 'Failed';
  const grace = req.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  if (!running || grace <= 0) return planDelete(current, req, now);
  const meta = { ...current.metadata };
  const prevGrace = meta.deletionGracePeriodSeconds;
  if (!meta.deletionTimestamp || (prevGrace !== undefined && grace < prevGrace)) {
    meta.deletionTimestamp = kubeTime(now + grace * 1000);
    meta.deletionGracePeriodSeconds = grace;
  }
  const finalizers = finalizersAfterDelete(current, req);
  if (finalizers.length > 0) meta.finalizers = finalizers;
  return { action: 'mark', reason: 'graceful', object: { ...current, metadata: meta } };
}

export const POD: Strategy = {
  ...GENERIC,
  prepareCreate: (obj) => {
    const pod = admitPod(obj);
    return { ...pod, status: { phase: 'Pending', qosClass: podQosClass(pod) } };
  },
  planDelete: planPodDelete,
};
