// Entry point of defaulting: `applyDefaults` returns a deep copy of an object with the
// defaults Kubernetes 1.32 fills in for its apiVersion + kind, so `kubectl get -o yaml`
// shows what it shows against Kubernetes. Guarantees: pure (input never mutated),
// idempotent (defaulting a defaulted object changes nothing), unknown kinds pass through
// unchanged. Does not: allocate anything (names, clusterIPs, nodePorts) or run admission.
import type { KubeObject } from '../object.js';
import type { Obj } from '../validation/access.js';
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from './apps.js';
import { defaultEndpointSlice, defaultEndpoints, defaultNamespace, defaultNode, defaultSecret, defaultService } from './core.js';
import { defaultPodOnly, defaultPodSpec } from './pod.js';
import { ensureObj } from '../validation/access.js';
import { defaultBinding } from './rbac.js';

export { defaultPullPolicy, defaultPodSpec, defaultPodTemplateSpec } from './pod.js';

function defaultPod(obj: Obj): void {
  const spec = ensureObj(obj, 'spec');
  defaultPodSpec(spec);
  defaultPodOnly(spec);
}

const DEFAULTERS: Record<string, (obj: Obj) => void> = {
  'v1/Pod': defaultPod,
  'v1/Service': defaultService,
  'v1/Secret': defaultSecret,
  'v1/Namespace': defaultNamespace,
  'v1/Node': defaultNode,
  'v1/Endpoints': defaultEndpoints,
  'discovery.k8s.io/v1/EndpointSlice': defaultEndpointSlice,
  'apps/v1/Deployment': defaultDeployment,
  'apps/v1/ReplicaSet': defaultReplicaSet,
  'apps/v1/DaemonSet': defaultDaemonSet,
  'apps/v1/StatefulSet': defaultStatefulSet,
  'rbac.authorization.k8s.io/v1/RoleBinding': defaultBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': defaultBinding,
};

export function applyDefaults(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  const defaulter = DEFAULTERS[`${obj.apiVersion ?? ''}/${obj.kind ?? ''}`];
  if (defaulter) defaulter(copy);
  return copy;
}
