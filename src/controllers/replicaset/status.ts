// A ReplicaSet's status from its pods (pure). Guarantees: the counts Kubernetes reports —
// replicas (active owned pods), fullyLabeledReplicas (pods carrying every template label),
// readyReplicas, availableReplicas (ready ≥ minReadySeconds at `now`), observedGeneration —
// and keeps existing conditions. Does not: decide when to write it (the caller compares).
import type { ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PodObj, ReplicaSetObj } from '../common/types.js';
import { isPodAvailable, isPodReady } from '../common/pods.js';

export function replicaSetStatus(rs: ReplicaSetObj, activePods: readonly PodObj[], now: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  for (const p of activePods) {
    const labels = p.metadata?.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fully++;
    if (isPodReady(p)) ready++;
    if (isPodAvailable(p, minReady, now)) available++;
  }
  const status: ReplicaSetStatus = {
    replicas: activePods.length,
    fullyLabeledReplicas: fully,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata?.generation ?? 0,
  };
  if (rs.status?.conditions?.length) status.conditions = rs.status.conditions;
  return status;
}
