// Start-time reconciliation of the default RBAC objects (defaults.ts), as Kubernetes' RBAC
// bootstrap does: a missing one is created; one annotated
// `rbac.authorization.kubernetes.io/autoupdate: "true"` (or without the annotation) gets its
// rules, aggregationRule and labels restored and, for bindings, the default subjects added
// back (extra subjects are kept) — a changed roleRef is deleted and recreated. One with the
// annotation `"false"` is left alone. Guarantees: idempotent; safe when several servers run it
// at once (a lost race, AlreadyExists or Conflict, leaves the other server's identical write).
// Does not: remove objects that were defaults in an older release.
import type { KubeObject } from '../../api/object.js';
import { findResource, type ResourceInfo } from '../../api/resources.js';
import { jsonEqual } from '../../api/validation/access.js';
import { isTriremeError } from '../../errors.js';
import type { Registry } from '../registry.js';
import { AUTOUPDATE_ANNOTATION, defaultClusterRoleBindings, defaultClusterRoles } from './defaults.js';

type Obj = Record<string, unknown>;

/** The object to write so `current` holds what `wanted` says, or undefined when nothing is to change. */
export function reconciled(current: KubeObject, wanted: KubeObject): KubeObject | undefined {
  if (current.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return undefined;
  const next = structuredClone(current) as Obj & KubeObject;
  const w = wanted as Obj & KubeObject;
  const meta = next.metadata ?? (next.metadata = {});
  if (w.metadata?.labels) meta.labels = { ...meta.labels, ...w.metadata.labels };
  if (w.metadata?.annotations) meta.annotations = { ...meta.annotations, ...w.metadata.annotations };
  if (w.kind === 'ClusterRole') {
    if (w.aggregationRule) next.aggregationRule = w.aggregationRule;
    else delete next.aggregationRule;
    // An aggregated role's rules are derived (state.ts): only a plain role's rules are restored.
    if (!w.aggregationRule) next.rules = w.rules;
  } else {
    const subjects = Array.isArray(next.subjects) ? [...(next.subjects as unknown[])] : [];
    for (const s of (w.subjects as unknown[]) ?? []) if (!subjects.some((x) => jsonEqual(x, s))) subjects.push(s);
    next.subjects = subjects;
  }
  return jsonEqual(next, current) ? undefined : next;
}

function ignoreRace(e: unknown): void {
  if (isTriremeError(e, 'AlreadyExists') || isTriremeError(e, 'Conflict') || isTriremeError(e, 'NotFound')) return;
  throw e;
}

async function ensure(registry: Registry, info: ResourceInfo, wanted: KubeObject): Promise<void> {
  const name = wanted.metadata!.name!;
  let current: KubeObject | undefined;
  try {
    current = await registry.get(info, undefined, name);
  } catch (e) {
    if (!isTriremeError(e, 'NotFound')) throw e;
  }
  if (!current) {
    await registry.create(info, undefined, wanted).catch(ignoreRace);
    return;
  }
  if (wanted.kind === 'ClusterRoleBinding' && !jsonEqual((current as Obj).roleRef, (wanted as Obj).roleRef)) {
    if (current.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return;
    await registry.delete(info, undefined, name).catch(ignoreRace);
    await registry.create(info, undefined, wanted).catch(ignoreRace);
    return;
  }
  const next = reconciled(current, wanted);
  if (next) await registry.update(info, undefined, name, next).catch(ignoreRace);
}

/** Creates or restores every default ClusterRole and ClusterRoleBinding. */
export async function reconcileDefaultRbac(registry: Registry): Promise<void> {
  const roles = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
  const bindings = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!;
  for (const r of defaultClusterRoles()) await ensure(registry, roles, r);
  for (const b of defaultClusterRoleBindings()) await ensure(registry, bindings, b);
}
