// NodeRestriction admission (Kubernetes' plugin of that name, in its simplest form): what a node's
// credentials may write, checked on the object about to be stored (after defaults, with the
// current object for updates), for users the node authorizer knows as a node
// (`system:node:<name>` in `system:nodes`). A node:
// - creates only mirror pods (annotation kubernetes.io/config.mirror) bound to itself, which
//   reference no Secret and no ConfigMap (else a node could read any Secret by naming it in a
//   mirror pod);
// - updates only pods bound to itself, changing nothing but their annotations (the agent records
//   the host ports it allocated there), and writes the status of pods bound to itself only;
// - creates, updates or writes the status of its own Node only; never sets, changes or removes a
//   label under `node-restriction.kubernetes.io/` (labels an admin uses to steer workloads to
//   nodes the nodes cannot claim themselves), and never changes its taints by an update (it may
//   set them when it creates its Node);
// - creates only its own Lease in kube-node-lease.
// `nodeRestriction` is pure and throws Forbidden (Kubernetes' wording) to refuse.
// Does not: restrict the other labels Kubernetes keeps from nodes (e.g. node-role.kubernetes.io/),
// look at deletes (the node authorizer allows deleting only pods bound to the node and its own
// Node), or at Events.
import { NODE_LEASE_NAMESPACE } from '../../api/namespaces.js';
import type { KubeObject } from '../../api/object.js';
import { jsonEqual } from '../../api/validation/access.js';
import { TriremeError } from '../../errors.js';
import type { UserInfo } from '../auth.js';
import { nodeNameOf } from './node-authorizer.js';
import { podReferences } from './node-graph.js';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const RESTRICTED_LABEL_PREFIX = 'node-restriction.kubernetes.io/';
/** The one annotation of a pod the agent writes (src/agent/pods/ports.ts). */
const PORTS_ANNOTATION = 'trireme.io/ports';

/** The request a write belongs to. */
export interface WriteRequest {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

function forbid(node: string, what: string): TriremeError {
  return new TriremeError('Forbidden', `node "${node}" ${what}`);
}

function nodeNameOfPod(pod: KubeObject | undefined): string | undefined {
  const n = (pod?.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof n === 'string' && n !== '' ? n : undefined;
}

function restrictedLabels(o: KubeObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o?.metadata?.labels ?? {})) if (k.startsWith(RESTRICTED_LABEL_PREFIX)) out[k] = v;
  return out;
}

/** The pod with what a node may change taken out: its status, resourceVersion and the ports annotation. */
function fixedPart(pod: KubeObject): unknown {
  const annotations = { ...(pod.metadata?.annotations ?? {}) };
  delete annotations[PORTS_ANNOTATION];
  const meta: Record<string, unknown> = { ...pod.metadata, annotations };
  delete meta.resourceVersion;
  delete meta.managedFields;
  return { ...pod, metadata: meta, status: undefined };
}

function admitPod(node: string, r: WriteRequest, next: KubeObject, current: KubeObject | undefined): void {
  const name = `${next.metadata?.namespace ?? ''}/${next.metadata?.name ?? ''}`;
  if (current === undefined) {
    if (r.subresource !== undefined) return;
    if (next.metadata?.annotations?.[MIRROR_ANNOTATION] === undefined) throw forbid(node, `can only create mirror pods (annotation ${MIRROR_ANNOTATION}), not pod ${name}`);
    if (nodeNameOfPod(next) !== node) throw forbid(node, `can only create pods bound to itself, not pod ${name} bound to ${JSON.stringify(nodeNameOfPod(next) ?? '')}`);
    const refs = podReferences(next);
    if (refs.secrets.size > 0 || refs.configmaps.size > 0) throw forbid(node, `cannot create mirror pod ${name} that references secrets or configmaps`);
    return;
  }
  if (nodeNameOfPod(current) !== node) throw forbid(node, `can only update pods bound to itself, not pod ${name}`);
  if (r.subresource === undefined && !jsonEqual(fixedPart(next), fixedPart(current))) {
    throw forbid(node, `can only change the ${PORTS_ANNOTATION} annotation of pod ${name}`);
  }
}

function admitNode(node: string, next: KubeObject, current: KubeObject | undefined): void {
  const name = next.metadata?.name ?? '';
  if (name !== node) throw forbid(node, `cannot modify node "${name}"`);
  const before = restrictedLabels(current);
  const after = restrictedLabels(next);
  if (!jsonEqual(before, after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]).sort();
    throw forbid(node, `is not allowed to modify labels: ${keys.join(', ')}`);
  }
  if (current !== undefined) {
    const taints = (o: KubeObject) => (o.spec as { taints?: unknown } | undefined)?.taints ?? [];
    if (!jsonEqual(taints(next), taints(current))) throw forbid(node, 'is not allowed to modify taints');
  }
}

/**
 * Admits (returns) or refuses (throws Forbidden) a node's write of `next` (`current`: the stored
 * object for an update; undefined for a create). Users who are not nodes are not checked.
 */
export function nodeRestriction(user: UserInfo, r: WriteRequest, next: KubeObject, current: KubeObject | undefined): void {
  const node = nodeNameOf(user);
  if (node === undefined) return;
  if (r.group === '' && r.resource === 'pods') return admitPod(node, r, next, current);
  if (r.group === '' && r.resource === 'nodes') return admitNode(node, next, current);
  if (r.group === 'coordination.k8s.io' && r.resource === 'leases' && next.metadata?.namespace === NODE_LEASE_NAMESPACE && next.metadata?.name !== node) {
    throw forbid(node, `cannot modify lease "${next.metadata?.name ?? ''}"`);
  }
}
