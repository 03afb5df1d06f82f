// Validation of the apps/v1 workloads: Deployment, ReplicaSet, DaemonSet, StatefulSet.
// Guarantees, for each: a non-empty, well-formed selector that matches the template's
// labels, a valid pod template whose restartPolicy is Always, non-negative counts, valid
// strategies (maxSurge/maxUnavailable int-or-percent, not both 0); on update an immutable
// selector, and for StatefulSets the Kubernetes list of updatable spec fields. Expects a
// defaulted object. Does not: validate status (the status subresource is the controllers').
import type { FieldCause } from '../../errors.js';
import { asObj, asStr, jsonEqual, objList, strMap, type Obj } from './access.js';
import { child, forbidden, IMMUTABLE_MSG, invalid, invalidEach, NEGATIVE_MSG, notSupported, required } from './field.js';
import { selectorIsEmpty, selectorMatches, validateLabelSelector } from './meta.js';
import { checkDns1123Label, checkDns1123Subdomain, checkPercent } from './names.js';
import { validatePodTemplateSpec } from './pod.js';

function nonNegative(spec: Obj, name: string, path: string): FieldCause[] {
  const v = spec[name];
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(child(path, name), v, 'must be an integer')];
  return v < 0 ? [invalid(child(path, name), v, NEGATIVE_MSG)] : [];
}

/** Selector present, non-empty, well-formed, and matching the template labels; template valid. */
function validateSelectorAndTemplate(spec: Obj, path: string, kind: string, extraVolumes: readonly string[] = []): FieldCause[] {
  const causes: FieldCause[] = [];
  const selPath = child(path, 'selector');
  const selector = spec.selector;
  if (selector === undefined || selector === null) {
    causes.push(required(selPath));
  } else {
    causes.push(...validateLabelSelector(selector, selPath));
    if (selectorIsEmpty(selector)) causes.push(invalid(selPath, selector, `empty selector is invalid for ${kind}`));
  }
  const tplPath = child(path, 'template');
  const template = asObj(spec.template);
  if (!template) {
    causes.push(required(tplPath));
    return causes;
  }
  const labels = strMap(asObj(template.metadata)?.labels) ?? {};
  if (selector !== undefined && selector !== null && !selectorIsEmpty(selector) && !selectorMatches(selector, labels)) {
    causes.push(invalid(child(tplPath, 'metadata', 'labels'), labels, '`selector` does not match template `labels`'));
  }
  causes.push(...validatePodTemplateSpec(template, tplPath, extraVolumes));
  // Controllers keep their pods running; any other policy would fight the controller.
  const rp = asStr(asObj(template.spec)?.restartPolicy);
  if (rp !== undefined && rp !== 'Always') {
    causes.push(notSupported(child(tplPath, 'spec', 'restartPolicy'), rp, ['Always']));
  }
  const ads = asObj(template.spec)?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    causes.push(forbidden(child(tplPath, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return causes;
}

/** The value of an int-or-percent against 100 (percent) — 0 stays 0, which is all callers test. */
function intOrPercentIsZero(v: unknown): boolean {
  if (typeof v === 'number') return v === 0;
  if (typeof v === 'string') return /^0+%$/.test(v);
  return false;
}

function validateIntOrPercent(v: unknown, path: string, atMost100Percent = false): FieldCause[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return [invalid(path, v, 'must be an integer')];
    return v < 0 ? [invalid(path, v, NEGATIVE_MSG)] : [];
  }
  if (typeof v === 'string') {
    const msgs = checkPercent(v);
    if (msgs.length > 0) return invalidEach(path, v, msgs);
    return atMost100Percent && Number(v.slice(0, -1)) > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
  }
  return [invalid(path, v, 'must be an integer or percentage (e.g \'5%\')')];
}

/** maxUnavailable/maxSurge shared by Deployments and DaemonSets. */
function validateRollingUpdate(ru: Obj, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const mu = ru.maxUnavailable;
  const ms = ru.maxSurge;
  // More than 100% unavailable is meaningless; a surge above 100% is allowed.
  causes.push(...validateIntOrPercent(mu, child(path, 'maxUnavailable'), true));
  causes.push(...validateIntOrPercent(ms, child(path, 'maxSurge')));
  if (intOrPercentIsZero(mu) && intOrPercentIsZero(ms)) {
    causes.push(invalid(child(path, 'maxUnavailable'), mu, 'may not be 0 when `maxSurge` is 0'));
  }
  return causes;
}

export function validateDeploymentSpec(spec: Obj, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  causes.push(...nonNegative(spec, 'replicas', path));
  causes.push(...validateSelectorAndTemplate(spec, path, 'deployment'));
  const strategy = asObj(spec.strategy) ?? {};
  const sp = child(path, 'strategy');
  const type = asStr(strategy.type) ?? '';
  if (type === 'Recreate') {
    if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
      causes.push(forbidden(child(sp, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
    }
  } else if (type === 'RollingUpdate') {
    const ru = asObj(strategy.rollingUpdate);
    if (!ru) causes.push(required(child(sp, 'rollingUpdate'), 'this should be defaulted and never be nil'));
    else causes.push(...validateRollingUpdate(ru, child(sp, 'rollingUpdate')));
  } else if (type === '') {
    causes.push(required(child(sp, 'type')));
  } else {
    causes.push(notSupported(child(sp, 'type'), type, ['Recreate', 'RollingUpdate']));
  }
  causes.push(...nonNegative(spec, 'revisionHistoryLimit', path));
  causes.push(...nonNegative(spec, 'minReadySeconds', path));
  causes.push(...nonNegative(spec, 'progressDeadlineSeconds', path));
  const pds = spec.progressDeadlineSeconds;
  const mrs = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
  if (typeof pds === 'number' && pds <= mrs) {
    causes.push(invalid(child(path, 'progressDeadlineSeconds'), pds, 'must be greater than minReadySeconds'));
  }
  return causes;
}

export function validateReplicaSetSpec(spec: Obj, path: string): FieldCause[] {
  return [
    ...nonNegative(spec, 'replicas', path),
    ...nonNegative(spec, 'minReadySeconds', path),
    ...validateSelectorAndTemplate(spec, path, 'deployment'),
  ];
}

export function validateDaemonSetSpec(spec: Obj, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  causes.push(...validateSelectorAndTemplate(spec, path, 'daemonset'));
  causes.push(...nonNegative(spec, 'minReadySeconds', path));
  causes.push(...nonNegative(spec, 'revisionHistoryLimit', path));
  const us = asObj(spec.updateStrategy) ?? {};
  const up = child(path, 'updateStrategy');
  const type = asStr(us.type) ?? '';
  if (type === 'RollingUpdate') {
    const ru = asObj(us.rollingUpdate);
    if (!ru) causes.push(required(child(up, 'rollingUpdate')));
    else causes.push(...validateRollingUpdate(ru, child(up, 'rollingUpdate')));
  } else if (type === 'OnDelete') {
    // nothing further to check
  } else if (type === '') {
    causes.push(required(child(up, 'type')));
  } else {
    causes.push(notSupported(child(up, 'type'), type, ['OnDelete', 'RollingUpdate']));
  }
  return causes;
}

const PVC_RETENTION = ['Delete', 'Retain'];

export function validateStatefulSetSpec(spec: Obj, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const pmp = asStr(spec.podManagementPolicy) ?? '';
  if (pmp === '') causes.push(required(child(path, 'podManagementPolicy')));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') {
    causes.push(invalid(child(path, 'podManagementPolicy'), pmp, "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = asObj(spec.updateStrategy) ?? {};
  const up = child(path, 'updateStrategy');
  const type = asStr(us.type) ?? '';
  if (type === 'RollingUpdate') {
    const ru = asObj(us.rollingUpdate);
    if (ru) {
      causes.push(...nonNegative(ru, 'partition', child(up, 'rollingUpdate')));
      if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
        causes.push(...validateIntOrPercent(ru.maxUnavailable, child(up, 'rollingUpdate', 'maxUnavailable'), true));
        if (intOrPercentIsZero(ru.maxUnavailable)) causes.push(invalid(child(up, 'rollingUpdate', 'maxUnavailable'), ru.maxUnavailable, 'must be greater than 0'));
      }
    }
  } else if (type === 'OnDelete') {
    if (us.rollingUpdate !== undefined && us.rollingUpdate !== null) {
      causes.push(invalid(child(up, 'rollingUpdate'), us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
    }
  } else if (type === '') {
    causes.push(required(up));
  } else {
    causes.push(invalid(up, us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const policy = asObj(spec.persistentVolumeClaimRetentionPolicy);
  if (policy) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      const v = asStr(policy[f]) ?? '';
      if (!PVC_RETENTION.includes(v)) causes.push(notSupported(child(path, 'persistentVolumeClaimRetentionPolicy', f), v, PVC_RETENTION));
    }
  }
  causes.push(...nonNegative(spec, 'replicas', path));
  causes.push(...nonNegative(spec, 'minReadySeconds', path));
  causes.push(...nonNegative(spec, 'revisionHistoryLimit', path));
  // serviceName is optional in 1.32; when given it names a Service, so it is a DNS-1123 label.
  const serviceName = asStr(spec.serviceName) ?? '';
  if (serviceName !== '') causes.push(...invalidEach(child(path, 'serviceName'), serviceName, checkDns1123Label(serviceName)));
  const claimNames: string[] = [];
  objList(spec.volumeClaimTemplates).forEach((t, i) => {
    const p = `${child(path, 'volumeClaimTemplates')}[${i}]`;
    const name = asStr(asObj(t.metadata)?.name) ?? '';
    if (name === '') causes.push(required(child(p, 'metadata', 'name')));
    else causes.push(...invalidEach(child(p, 'metadata', 'name'), name, checkDns1123Subdomain(name)));
    claimNames.push(name);
  });
  causes.push(...validateSelectorAndTemplate(spec, path, 'statefulset', claimNames));
  return causes;
}

export function validateSelectorImmutable(spec: Obj, old: Obj, path: string): FieldCause[] {
  return jsonEqual(spec.selector, old.selector) ? [] : [invalid(child(path, 'selector'), spec.selector ?? null, IMMUTABLE_MSG)];
}

const STS_UPDATABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export function validateStatefulSetUpdate(spec: Obj, old: Obj, path: string): FieldCause[] {
  const strip = (s: Obj): Obj => Object.fromEntries(Object.entries(s).filter(([k]) => !STS_UPDATABLE.includes(k)));
  if (jsonEqual(strip(spec), strip(old))) return [];
  return [forbidden(path, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}
