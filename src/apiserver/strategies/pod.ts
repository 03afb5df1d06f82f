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
 * Seconds a pod stays bound to an unreachable node before eviction (the DefaultTolerationSeconds
 * admission plugin, kube-apiserver's --default-unreachable-toleration-seconds; Kubernetes uses
 * 300). 1 s: the node lifecycle controller's 5 s grace period already absorbs heartbeat blips, so
 * a lost node's pods go ~6 s after its last heartbeat and are replaced within ~10 s (timeline in
 * docs/controllers.md). The only place this number lives; `trireme server` / `apiserver` flags
 * override it.
 */
export const DEFAULT_UNREACHABLE_TOLERATION_SECONDS = 1;

/**
 * The same for a node whose agent reports Ready False (its runtime cannot start containers;
 * --default-not-ready-toleration-seconds). 3 s: that agent is alive and its containers still run,
 * so a runtime hiccup as short as a heartbeat blip moves nothing.
 */
export const DEFAULT_NOT_READY_TOLERATION_SECONDS = 3;

/** tolerationSeconds admission gives a new pod for the not-ready and unreachable NoExecute taints. */
export interface DefaultTolerations { notReadySeconds: number; unreachableSeconds: number }

export const DEFAULT_TOLERATIONS: DefaultTolerations = {
  notReadySeconds: DEFAULT_NOT_READY_TOLERATION_SECONDS, unreachableSeconds: DEFAULT_UNREACHABLE_TOLERATION_SECONDS,
};

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
export function admitPod(pod: KubeObject, defaults: DefaultTolerations = DEFAULT_TOLERATIONS): KubeObject {
  const spec: PodSpec = { ...((pod.spec ?? {}) as PodSpec) };
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations = [...(spec.tolerations ?? [])];
  const defaultsByKey: Array<[string, number]> = [['node.kubernetes.io/not-ready', defaults.notReadySeconds], ['node.kubernetes.io/unreachable', defaults.unreachableSeconds]];
  for (const [key, tolerationSeconds] of defaultsByKey) {
    const has = tolerations.some((t) => (t.key === key || (t.key === undefined && t.operator === 'Exists')) && (t.effect === undefined || t.effect === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds });
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

/** The Pod strategy, with the toleration defaults its admission adds. */
export function podStrategy(defaults: DefaultTolerations = DEFAULT_TOLERATIONS): Strategy {
  return {
    ...GENERIC,
    prepareCreate: (obj) => {
      const pod = admitPod(obj, defaults);
      return { ...pod, status: { phase: 'Pending', qosClass: podQosClass(pod) } };
    },
    planDelete: planPodDelete,
  };
}

export const POD: Strategy = podStrategy();
