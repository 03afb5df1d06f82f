// What a DaemonSet must do on each node (pure), as Kubernetes' daemon controller: create a pod
// on each eligible node without one; delete pods on nodes where they may not continue, failed
// pods, and duplicates (the oldest stays); then the rolling update — old-revision pods that
// are unavailable go first, available ones only while fewer than maxUnavailable (rounded up,
// against desiredNumberScheduled) nodes are unavailable; with maxSurge > 0 a new pod is
// started next to an available old one (up to maxSurge nodes at a time) and the old pod goes
// once the new one is available; unbound pods pinned to a vanished node are deleted. Also the
// status counts. Does not: consider a pod's resources, nor delete bound pods of vanished nodes.
import type { DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import { scaledValue } from '../common/intstr.js';
import { creationMs, isPodActive, isPodAvailable, isPodReady } from '../common/pods.js';
import type { DaemonSetObj, NodeObj, PodObj } from '../common/types.js';
import { nodeEligibility } from './eligibility.js';
import { targetNode } from './pin.js';

export const REVISION_HASH_LABEL = 'controller-revision-hash';

export interface DaemonPlan {
  createOn: string[];
  delete: PodObj[];
  status: DaemonSetStatus;
}

function hashOf(p: PodObj): string | undefined {
  return p.metadata?.labels?.[REVISION_HASH_LABEL];
}

function oldestFirst(a: PodObj, b: PodObj): number {
  return creationMs(a) - creationMs(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

export function planDaemonSet(ds: DaemonSetObj, nodes: readonly NodeObj[], pods: readonly PodObj[], hash: string, now: number): DaemonPlan {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const byNode = new Map<string, PodObj[]>();
  for (const p of pods) {
    const n = targetNode(p);
    if (n === undefined) continue;
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const createOn: string[] = [];
  const del: PodObj[] = [];
  // Unbound pods pinned to a node that no longer exists can never run (Kubernetes deletes them too).
  const known = new Set(nodes.map((n) => n.metadata?.name ?? ''));
  for (const [n, ps] of byNode) {
    if (!known.has(n)) del.push(...ps.filter((p) => !p.spec?.nodeName && !p.metadata?.deletionTimestamp));
  }
  const status: Required<Pick<DaemonSetStatus, 'desiredNumberScheduled' | 'currentNumberScheduled' | 'numberMisscheduled' | 'numberReady' | 'numberAvailable' | 'updatedNumberScheduled' | 'numberUnavailable' | 'observedGeneration'>> = {
    desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0,
    numberAvailable: 0, updatedNumberScheduled: 0, numberUnavailable: 0, observedGeneration: ds.metadata?.generation ?? 0,
  };
  // Nodes that run (or should run) a daemon pod, with the pod(s) kept there.
  const kept = new Map<string, PodObj[]>();
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const e = nodeEligibility(node, ds.spec?.template);
    const here = (byNode.get(name) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
    const active = here.filter(isPodActive);
    if (e.shouldRun) status.desiredNumberScheduled++;
    if (!e.shouldContinueRunning || (!e.shouldRun && active.length === 0)) {
      if (active.length) status.numberMisscheduled++;
      del.push(...here);
      continue;
    }
    if (!e.shouldRun) status.numberMisscheduled++;
    del.push(...here.filter((p) => !isPodActive(p))); // failed pods are replaced
    if (active.length === 0) {
      if (e.shouldRun) createOn.push(name);
      continue;
    }
    status.currentNumberScheduled++;
    // One pod per node: keep the oldest of each revision at most (new + old during a surge).
    const sorted = [...active].sort(oldestFirst);
    const newest = sorted.find((p) => hashOf(p) === hash);
    const old = sorted.find((p) => hashOf(p) !== hash);
    const keep = [old, newest].filter((p): p is PodObj => p !== undefined);
    const surging = Boolean(newest && old && (ds.spec?.updateStrategy?.rollingUpdate?.maxSurge ?? 0) !== 0);
    const finalKeep = surging ? keep : [sorted[0]!];
    del.push(...active.filter((p) => !finalKeep.includes(p)));
    kept.set(name, finalKeep);
    const shown = finalKeep.find((p) => hashOf(p) === hash) ?? finalKeep[0]!;
    if (hashOf(shown) === hash) status.updatedNumberScheduled++;
    if (finalKeep.some(isPodReady)) status.numberReady++;
    if (finalKeep.some((p) => isPodAvailable(p, minReady, now))) status.numberAvailable++;
  }
  status.numberUnavailable = Math.max(0, status.desiredNumberScheduled - status.numberAvailable);
  if (ds.spec?.updateStrategy?.type !== 'OnDelete') rollingUpdate(ds, kept, hash, now, createOn, del, status.desiredNumberScheduled);
  return { createOn, delete: del, status };
}

function rollingUpdate(ds: DaemonSetObj, kept: Map<string, PodObj[]>, hash: string, now: number, createOn: string[], del: PodObj[], desired: number): void {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const maxSurge = scaledValue(ru?.maxSurge, desired, true, 0);
  let maxUnavailable = scaledValue(ru?.maxUnavailable, desired, true, 1);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const available = (p: PodObj) => isPodAvailable(p, minReady, now);
  const deleting = new Set(del);
  // Nodes already unavailable: no pod yet, or none available.
  let unavailable = createOn.length;
  for (const ps of kept.values()) if (!ps.some(available)) unavailable++;
  let surging = 0;
  for (const ps of kept.values()) if (ps.length > 1) surging++;
  for (const [node, ps] of [...kept.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const old = ps.find((p) => hashOf(p) !== hash);
    if (!old || deleting.has(old)) continue;
    const fresh = ps.find((p) => hashOf(p) === hash);
    if (maxSurge > 0) {
      if (fresh) {
        if (available(fresh)) del.push(old);
      } else if (!available(old)) {
        del.push(old);
      } else if (surging < maxSurge) {
        createOn.push(node);
        surging++;
      }
      continue;
    }
    if (!available(old)) {
      del.push(old); // already unavailable: replacing it costs nothing
    } else if (unavailable < maxUnavailable) {
      del.push(old);
      unavailable++;
    }
  }
}
