// The rules every kind shares (pure): which kinds count `generation`, what an update of the
// main resource or of `/status` may change, and the strategy a kind without rules of its own
// gets. Guarantees: nothing here reads or writes anything or modifies its inputs.
// Does not: default or validate (src/api does).
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import { planDelete, readyToRemove } from './delete-plan.js';
import type { Strategy } from './strategy.js';

/** Kinds whose spec changes bump `metadata.generation` (controllers report observedGeneration). */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Pod']);

export function tracksGeneration(info: ResourceInfo): boolean {
  return GENERATION_KINDS.has(info.kind);
}

/**
 * Merges an update into the stored object according to what the endpoint may change:
 * the main resource keeps the stored status; `/status` keeps everything but status.
 */
export function mergeForUpdate(info: ResourceInfo, incoming: KubeObject, old: KubeObject, subresource: 'status' | 'binding' | 'finalize' | undefined): KubeObject {
  const hasStatus = info.subresources.includes('status');
  if (subresource === 'binding' || subresource === 'finalize') return incoming;
  if (subresource === 'status') {
    // Kubernetes ignores metadata changes sent to /status.
    const merged: KubeObject = { ...structuredClone(old), status: incoming.status };
    merged.metadata = { ...old.metadata, resourceVersion: incoming.metadata?.resourceVersion ?? old.metadata?.resourceVersion };
    return merged;
  }
  if (hasStatus) return { ...incoming, status: old.status };
  return incoming;
}

/** A kind with no server rules of its own: objects pass through; deletes follow finalizers. */
export const GENERIC: Strategy = {
  prepareCreate: (obj) => obj,
  prepareUpdate: (next) => next,
  planDelete,
  readyToRemove,
};

/** Kinds whose status a controller owns: a create starts with an empty status. */
export const CONTROLLER_STATUS: Strategy = {
  ...GENERIC,
  prepareCreate: (obj) => ({ ...obj, status: {} }),
};
