// Pod predicates shared by the workload controllers (pure). Guarantees: Kubernetes'
// meaning of active (not terminal, not being deleted), ready (Ready condition True) and
// available (ready for at least minReadySeconds, judged against the given time).
import type { PodObj } from './types.js';

export function isPodActive(pod: PodObj): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

export function isPodTerminal(pod: PodObj): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function readyCondition(pod: PodObj) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: PodObj): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod became Ready (ms), or undefined if it is not ready or the time is unknown. */
export function readySince(pod: PodObj): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/** Ready for at least minReadySeconds at time `now` (ms). */
export function isPodAvailable(pod: PodObj, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/**
 * How long until a ready pod becomes available (ms), so a controller can look again then;
 * undefined when no re-check is needed.
 */
export function msUntilAvailable(pod: PodObj, minReadySeconds: number, now: number): number | undefined {
  if (minReadySeconds <= 0 || !isPodReady(pod)) return undefined;
  const since = readySince(pod);
  if (since === undefined) return undefined;
  const left = since + minReadySeconds * 1000 - now;
  return left > 0 ? left : undefined;
}

export function restartCount(pod: PodObj): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

export function creationMs(obj: { metadata?: { creationTimestamp?: string } }): number {
  const t = Date.parse(obj.metadata?.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

