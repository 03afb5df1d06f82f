// Fencing on the API server (DESIGN.md §4). A mutating request that carries X-Trireme-Fence
// runs only while the Lease it names is held by that identity in that term, and the check is
// atomic with the write: resolveFence reads the Lease's KeyValue from the store (never the
// watch cache), verifies holder and transition count, and hands the registry a WriteFence whose
// guard (the Lease key at the modRevision verified) every store write of the request carries
// (Store `opts.guard`: an etcd compare in the write's transaction, a check inside the SQLite
// commit). A Lease write between check and write (a renewal, or a takeover) fails the guard;
// then `recheck` reads the Lease again: still ours in the same term → a new guard and the write
// is retried (bounded, by the registry); moved on → 409 "fenced: …". So a takeover landing
// between check and write can never slip through.
//
// Also here: leader-elected identities must fence (requireFence): a write by
// system:kube-controller-manager or system:kube-scheduler without a fence is 403, except writes
// to coordination.k8s.io Leases (the election itself).
//
// Guarantees: a malformed token is 400; a Lease that is missing, held by someone else or in
// another term is 409 with context { fenced: true }. Does not: authenticate the token (any
// authorized user may send any fence; the fence narrows what a writer may do, it grants nothing).
import { findResource, storeKey } from '../api/resources.js';
import { FENCE_HEADER, fencedError, LEADER_ELECTED_USERS, parseFence, type Fence } from '../api/fence.js';
import { TriremeError } from '../errors.js';
import type { KeyValue, Store, WriteGuard } from '../storage/store.js';
import type { WriteFence } from './registry.js';

interface LeaseLike { spec?: { holderIdentity?: string; leaseTransitions?: number } }

/** Parses the header, checks the Lease in the store, and returns the fence for the request's writes. */
export async function resolveFence(store: Store, header: string): Promise<WriteFence> {
  const fence = parseFence(header);
  if (!fence) throw new TriremeError('BadRequest', `malformed ${FENCE_HEADER} header ${JSON.stringify(header)}: want <namespace>/<name>;<identity>;<transitions>`);
  const leases = findResource('coordination.k8s.io', 'v1', 'leases');
  if (!leases) throw new TriremeError('Internal', 'leases are not served, so fences cannot be checked');
  const key = storeKey(leases, fence.lease.namespace, fence.lease.name);
  let guard = verify(fence, key, await store.get(key));
  return {
    guard: () => guard,
    recheck: async () => { guard = verify(fence, key, await store.get(key)); },
  };
}

/** The guard for `fence` if the Lease record `kv` names its holder and term; otherwise the fenced 409. */
export function verify(fence: Fence, key: string, kv: KeyValue | undefined): WriteGuard {
  const where = `${fence.lease.namespace}/${fence.lease.name}`;
  if (!kv) throw fencedError(`fenced: lease ${where} does not exist`, where);
  let lease: LeaseLike;
  try {
    lease = JSON.parse(kv.value) as LeaseLike;
  } catch (err) {
    throw new TriremeError('Internal', `lease ${where} in the store is not JSON`, { cause: err });
  }
  const holder = lease.spec?.holderIdentity ?? '';
  const transitions = lease.spec?.leaseTransitions ?? 0;
  if (holder !== fence.identity || transitions !== fence.transitions) {
    throw fencedError(`fenced: lease ${where} is held by ${JSON.stringify(holder)} (transitions ${transitions}), not ${JSON.stringify(fence.identity)} (transitions ${fence.transitions})`, where);
  }
  return { key, modRevision: kv.modRevision };
}

/**
 * 403 unless this write may go unfenced: the user is not a leader-elected component, or the
 * write is to a coordination.k8s.io Lease (how it elects).
 */
export function requireFence(user: string, target: { group: string; resource: string }): void {
  if (!LEADER_ELECTED_USERS.includes(user)) return;
  if (target.group === 'coordination.k8s.io' && target.resource === 'leases') return;
  throw new TriremeError('Forbidden', `forbidden: User "${user}" is a leader-elected component and may write only with a valid ${FENCE_HEADER} header (rule: leader-elected components are always fenced; only coordination.k8s.io leases are exempt)`, {
    context: { kind: target.resource, group: target.group },
  });
}
