// What the node fence does with the pods on this node (pure), from a snapshot of what runs here
// taken *before* a consistent read of the API's pods bound to the node.
// Guarantees: a pod that ran here before the read and is absent from it (deleted, evicted, or
// replaced by one with another uid) is stopped — it cannot come back, uids are never reused; a
// pod the read shows terminating is handed the fresh object, so its graceful deletion starts
// even if the informer has not caught up; a held (self-fenced) pod the read still shows is
// released. Pods that appeared after the snapshot are left alone (the read may predate them),
// and static pods are never fenced (their source is the manifest, not the API).
// Self-fencing: pods annotated `trireme.io/self-fence: "true"` are held once it is due.
// Does not: do any I/O, or decide when to fence (contact.ts).
import type { Pod } from 'kubernetes-types/core/v1.js';

export const SELF_FENCE_ANNOTATION = 'trireme.io/self-fence';

export interface LocalPod {
  uid: string;
  /** A worker fed by the API, a static pod's worker, or only containers/files (no worker yet). */
  source: 'api' | 'static' | 'runtime';
  held: boolean;
}

export interface FencePlan {
  /** Gone from the API: stop now (short grace), remove. */
  stop: { uid: string; source: 'api' | 'runtime' }[];
  /** Terminating in the API: give the worker this object. */
  update: Pod[];
  /** Held and still in the API: run again. */
  release: string[];
}

export function planFence(snapshot: readonly LocalPod[], listed: readonly Pod[]): FencePlan {
  const byUid = new Map<string, Pod>();
  for (const p of listed) if (p.metadata?.uid) byUid.set(p.metadata.uid, p);
  const plan: FencePlan = { stop: [], update: [], release: [] };
  for (const l of snapshot) {
    if (l.source === 'static') continue;
    const api = byUid.get(l.uid);
    if (!api) {
      plan.stop.push({ uid: l.uid, source: l.source });
      continue;
    }
    if (l.source === 'api' && api.metadata?.deletionTimestamp) plan.update.push(api);
    if (l.held) plan.release.push(l.uid);
  }
  return plan;
}

export function isSelfFencing(pod: Pod): boolean {
  return pod.metadata?.annotations?.[SELF_FENCE_ANNOTATION] === 'true';
}

/** The pods to hold now that self-fencing is due: annotated API pods not held yet. */
export function selfFenceTargets(pods: readonly { uid: string; source: LocalPod['source']; held: boolean; pod: Pod }[]): string[] {
  return pods.filter((p) => p.source === 'api' && !p.held && isSelfFencing(p.pod)).map((p) => p.uid);
}
