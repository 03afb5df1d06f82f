// Fencing on the API server (DESIGN.md §4): a mutating request that carries X-Trireme-Fence runs
// only while the Lease it names is still held by that identity in that term. Guarantees: a
// malformed token is 400; a token whose Lease is missing, held by someone else or in another
// term is 409 Conflict. What it does not guarantee: atomicity with the write itself: the Lease
// is read (from the store, not the watch cache, so a lagging cache cannot let a stale token
// through) before the write runs, so a takeover landing in between is not caught. That window
// is one request long, where without fencing it is as long as the deposed leader takes to notice.
import { TriremeError } from '../errors.js';
import { findResource } from '../api/resources.js';
import { parseFence } from '../api/fence.js';
import type { Registry } from './registry.js';

interface LeaseLike { spec?: { holderIdentity?: string; leaseTransitions?: number } }

/** Throws BadRequest or Conflict unless `header` names the current holder and term of its Lease. */
export async function checkFence(registry: Registry, header: string): Promise<void> {
  const fence = parseFence(header);
  if (!fence) throw new TriremeError('BadRequest', `malformed X-Trireme-Fence header ${JSON.stringify(header)}: want <namespace>/<name>;<identity>;<transitions>`);
  const leases = findResource('coordination.k8s.io', 'v1', 'leases');
  if (!leases) throw new TriremeError('Internal', 'leases are not served, so fences cannot be checked');
  const where = `${fence.lease.namespace}/${fence.lease.name}`;
  let lease: LeaseLike;
  try {
    lease = await registry.get(leases, fence.lease.namespace, fence.lease.name) as LeaseLike;
  } catch (err) {
    if (err instanceof TriremeError && err.code === 'NotFound') throw new TriremeError('Conflict', `fenced: lease ${where} does not exist`);
    throw err;
  }
  const holder = lease.spec?.holderIdentity ?? '';
  const transitions = lease.spec?.leaseTransitions ?? 0;
  if (holder !== fence.identity || transitions !== fence.transitions) {
    throw new TriremeError('Conflict', `fenced: lease ${where} is held by ${JSON.stringify(holder)} (transitions ${transitions}), not ${JSON.stringify(fence.identity)} (transitions ${fence.transitions})`);
  }
}
