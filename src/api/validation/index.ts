// Entry point of object validation: `validateCreate` / `validateUpdate` dispatch on
// apiVersion + kind to the per-kind rules and return every problem found, as Kubernetes
// field causes; `invalidError` turns them into the 'Invalid' error with Kubernetes' message.
// Guarantees: pure (no I/O, no mutation); objects should be defaulted first (applyDefaults),
// as Kubernetes validates after defaulting. Does not: check metadata immutability on update
// (name, namespace, uid, creationTimestamp, resourceVersion) — the API server does — nor
// reject kinds it does not know (they get metadata validation only).
import { TriremeError, type FieldCause } from '../../errors.js';
import type { KubeObject } from '../object.js';
import { findByKind } from '../resources.js';
import { asObj, type Obj } from './access.js';
import {
  validateDaemonSetSpec, validateDeploymentSpec, validateReplicaSetSpec, validateSelectorImmutable,
  validateStatefulSetSpec, validateStatefulSetUpdate,
} from './apps.js';
import { validateConfigMap, validateConfigMapUpdate, validateSecret, validateSecretUpdate } from './config.js';
import { validateCoreEvent, validateEndpoints, validateEventsEvent, validateLeaseSpec, validateNodeSpec } from './core.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from './discovery.js';
import { formatCause, required } from './field.js';
import { validateObjectMeta } from './meta.js';
import { nameIsDns1035Label, nameIsDns1123Label, nameIsDns1123Subdomain, nameIsPathSegment, type NameCheck } from './names.js';
import { validatePodSpec } from './pod.js';
import { validateServiceSpec, validateServiceUpdate } from './service.js';
import { validateBindingUpdate, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './rbac.js';

export { validateObjectMeta, validateLabels, validateAnnotations, validateLabelSelector, selectorMatches } from './meta.js';
export {
  isDns1123Label, isDns1123Subdomain, isDns1035Label, checkDns1123Label, checkDns1123Subdomain,
  checkDns1035Label, checkQualifiedName, checkLabelValue, nameIsDns1123Label, nameIsDns1123Subdomain,
  nameIsDns1035Label, type NameCheck,
} from './names.js';
export { parseQuantity, isValidQuantity } from './quantity.js';
export { formatCause } from './field.js';

/** Name syntax per kind, as Kubernetes' Validate<Kind>Name functions choose it. */
export function nameCheckFor(kind: string | undefined): NameCheck {
  switch (kind) {
    case 'Namespace': return nameIsDns1123Label;
    case 'Service': return nameIsDns1035Label;
    case 'Role': case 'ClusterRole': case 'RoleBinding': case 'ClusterRoleBinding': return nameIsPathSegment;
    default: return nameIsDns1123Subdomain;
  }
}

type KindRule = (obj: Obj) => FieldCause[];
type UpdateRule = (obj: Obj, old: Obj) => FieldCause[];

function spec(obj: Obj): Obj {
  return asObj(obj.spec) ?? {};
}

// Kinds whose spec is mandatory: a missing spec is one Required cause, not a cascade.
const SPEC_REQUIRED = new Set(['apps/v1/Deployment', 'apps/v1/ReplicaSet', 'apps/v1/DaemonSet', 'apps/v1/StatefulSet', 'v1/Pod', 'v1/Service']);

const CREATE_RULES: Record<string, KindRule> = {
  'v1/Pod': (o) => validatePodSpec(o.spec, 'spec'),
  'v1/Service': (o) => validateServiceSpec(spec(o), 'spec'),
  'v1/ConfigMap': validateConfigMap,
  'v1/Secret': validateSecret,
  'v1/Node': (o) => validateNodeSpec(spec(o)),
  'v1/Event': validateCoreEvent,
  'events.k8s.io/v1/Event': validateEventsEvent,
  'v1/Endpoints': validateEndpoints,
  'coordination.k8s.io/v1/Lease': (o) => validateLeaseSpec(spec(o)),
  'discovery.k8s.io/v1/EndpointSlice': validateEndpointSlice,
  'apps/v1/Deployment': (o) => validateDeploymentSpec(spec(o), 'spec'),
  'apps/v1/ReplicaSet': (o) => validateReplicaSetSpec(spec(o), 'spec'),
  'apps/v1/DaemonSet': (o) => validateDaemonSetSpec(spec(o), 'spec'),
  'apps/v1/StatefulSet': (o) => validateStatefulSetSpec(spec(o), 'spec'),
  'rbac.authorization.k8s.io/v1/Role': validateRole,
  'rbac.authorization.k8s.io/v1/ClusterRole': validateClusterRole,
  'rbac.authorization.k8s.io/v1/RoleBinding': validateRoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': validateClusterRoleBinding,
};

const UPDATE_RULES: Record<string, UpdateRule> = {
  'rbac.authorization.k8s.io/v1/RoleBinding': validateBindingUpdate,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': validateBindingUpdate,
  'v1/Service': (o, old) => validateServiceUpdate(spec(o), spec(old), 'spec'),
  'v1/ConfigMap': validateConfigMapUpdate,
  'v1/Secret': validateSecretUpdate,
  'discovery.k8s.io/v1/EndpointSlice': validateEndpointSliceUpdate,
  'apps/v1/Deployment': (o, old) => validateSelectorImmutable(spec(o), spec(old), 'spec'),
  'apps/v1/ReplicaSet': (o, old) => validateSelectorImmutable(spec(o), spec(old), 'spec'),
  'apps/v1/DaemonSet': (o, old) => validateSelectorImmutable(spec(o), spec(old), 'spec'),
  'apps/v1/StatefulSet': (o, old) => [
    ...validateSelectorImmutable(spec(o), spec(old), 'spec'),
    ...validateStatefulSetUpdate(spec(o), spec(old), 'spec'),
  ],
};

function ruleKey(obj: KubeObject): string {
  return `${obj.apiVersion ?? ''}/${obj.kind ?? ''}`;
}

/** Everything wrong with an object about to be created. Empty means valid. */
export function validateCreate(obj: KubeObject): FieldCause[] {
  const k = ruleKey(obj);
  const info = findByKind(obj.apiVersion ?? '', obj.kind ?? '');
  const causes = validateObjectMeta(obj.metadata, { namespaced: info?.namespaced ?? true, nameCheck: nameCheckFor(obj.kind) });
  if (SPEC_REQUIRED.has(k) && !asObj(obj.spec)) {
    causes.push(required('spec'));
    return causes;
  }
  const rule = CREATE_RULES[k];
  if (rule) causes.push(...rule(obj));
  return causes;
}

/**
 * Everything wrong with `obj` replacing `old`: the create rules on the new object plus the
 * kind's update-only rules (immutable fields).
 */
export function validateUpdate(obj: KubeObject, old: KubeObject): FieldCause[] {
  const causes = validateCreate(obj);
  const rule = UPDATE_RULES[ruleKey(obj)];
  if (rule) causes.push(...rule(obj, old));
  return causes;
}

/**
 * The 'Invalid' (HTTP 422) error for `causes`, with Kubernetes' message:
 * `<Kind>[.<group>] "<name>" is invalid: <cause>` or `... is invalid: [<cause>, <cause>]`.
 * Identical cause texts are reported once, as apimachinery's aggregate does.
 */
export function invalidError(kind: string, name: string, causes: FieldCause[], group = ''): TriremeError {
  const qualified = group === '' ? kind : `${kind}.${group}`;
  const texts = [...new Set(causes.map(formatCause))];
  let message = `${qualified} ${JSON.stringify(name)} is invalid`;
  if (texts.length === 1) message += `: ${texts[0] ?? ''}`;
  else if (texts.length > 1) message += `: [${texts.join(', ')}]`;
  return new TriremeError('Invalid', message, { causes, context: { kind, group, name } });
}
