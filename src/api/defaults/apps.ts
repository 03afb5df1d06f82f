// Defaults of apps/v1 workloads as Kubernetes 1.32 applies them. Guarantees: Deployment
// (replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600),
// ReplicaSet (replicas 1), DaemonSet (RollingUpdate maxUnavailable 1 / maxSurge 0,
// revisionHistoryLimit 10), StatefulSet (replicas 1, OrderedReady, RollingUpdate partition 0,
// revisionHistoryLimit 10, PVC retention Retain/Retain, claim template defaults), and the
// pod-template defaults of each. Does not: default selectors from labels (apps/v1 never did).
import { asObj, ensureObj, objList, setDefault, type Obj } from '../validation/access.js';
import { defaultPodTemplateSpec } from './pod.js';

function template(spec: Obj): void {
  defaultPodTemplateSpec(ensureObj(spec, 'template'));
}

export function defaultDeployment(obj: Obj): void {
  const spec = ensureObj(obj, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureObj(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  template(spec);
}

export function defaultReplicaSet(obj: Obj): void {
  const spec = ensureObj(obj, 'spec');
  setDefault(spec, 'replicas', 1);
  template(spec);
}

export function defaultDaemonSet(obj: Obj): void {
  const spec = ensureObj(obj, 'spec');
  const us = ensureObj(spec, 'updateStrategy');
  setDefault(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') {
    const ru = ensureObj(us, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  template(spec);
}

export function defaultStatefulSet(obj: Obj): void {
  const spec = ensureObj(obj, 'spec');
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const us = ensureObj(spec, 'updateStrategy');
  if (us.type === undefined || us.type === null || us.type === '') {
    us.type = 'RollingUpdate';
    ensureObj(us, 'rollingUpdate');
  }
  const ru = asObj(us.rollingUpdate);
  if (us.type === 'RollingUpdate' && ru) setDefault(ru, 'partition', 0);
  const retention = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  for (const claim of objList(spec.volumeClaimTemplates)) {
    // Claim templates are embedded PVC objects; Kubernetes fills their type and defaults.
    setDefault(claim, 'apiVersion', 'v1');
    setDefault(claim, 'kind', 'PersistentVolumeClaim');
    const meta = ensureObj(claim, 'metadata');
    if (!('creationTimestamp' in meta)) meta.creationTimestamp = null;
    setDefault(ensureObj(claim, 'spec'), 'volumeMode', 'Filesystem');
    setDefault(ensureObj(claim, 'status'), 'phase', 'Pending');
  }
  template(spec);
}
