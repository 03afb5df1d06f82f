// Whether removing one etcd member is safe: a pure decision over the member list and health.
// Guarantees: refuses removing the last voting member, and refuses when the voting members
// that would remain do not have a healthy majority among them (the cluster would be left
// without quorum, or one failure away from none that it cannot recover from by itself);
// removing a learner is always allowed (it does not vote); an unknown target is NotFound, an
// ambiguous one Invalid. Targets are matched by name, decimal id or hex id.
// Does not: talk to etcd (membership.ts gathers the inputs and acts).

export interface EtcdMemberInfo {
  /** etcd's member id, decimal (as the etcd3 client reports it). */
  id: string;
  /** The same id in hex, as etcd's logs and etcdctl show it. */
  hexId: string;
  /** Empty while an added member has not started yet. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export type RemovalPlan =
  | { ok: true; member: EtcdMemberInfo }
  | { ok: false; code: 'NotFound' | 'Invalid' | 'Conflict'; reason: string };

export function hexId(decimalId: string): string {
  return BigInt(decimalId).toString(16);
}

/** The members `target` (name, decimal id or hex id) designates. */
export function matchMembers(members: readonly EtcdMemberInfo[], target: string): EtcdMemberInfo[] {
  const t = target.trim().toLowerCase();
  const hex = /^(0x)?[0-9a-f]+$/.test(t) ? t.replace(/^0x/, '').replace(/^0+(?=.)/, '') : undefined;
  const byName = members.filter((m) => m.name !== '' && m.name.toLowerCase() === t);
  if (byName.length > 0) return byName;
  return members.filter((m) => m.id === t || (hex !== undefined && m.hexId === hex));
}

export function planRemoval(members: readonly EtcdMemberInfo[], health: ReadonlyMap<string, boolean>, target: string): RemovalPlan {
  const found = matchMembers(members, target);
  if (found.length === 0) return { ok: false, code: 'NotFound', reason: `no etcd member ${JSON.stringify(target)} (members: ${members.map(label).join(', ') || 'none'})` };
  if (found.length > 1) return { ok: false, code: 'Invalid', reason: `${JSON.stringify(target)} names ${found.length} members (${found.map(label).join(', ')}); use the member id` };
  const member = found[0]!;
  if (member.isLearner) return { ok: true, member };
  const voters = members.filter((m) => !m.isLearner);
  const remaining = voters.filter((m) => m.id !== member.id);
  if (remaining.length === 0) return { ok: false, code: 'Conflict', reason: `${label(member)} is the last voting member; removing it would destroy the cluster` };
  const healthy = remaining.filter((m) => health.get(m.id) === true);
  if (healthy.length * 2 <= remaining.length) {
    return {
      ok: false,
      code: 'Conflict',
      reason: `removing ${label(member)} would leave ${healthy.length} healthy of ${remaining.length} voting members, not a majority; bring the unhealthy members back (or remove them) first`,
    };
  }
  return { ok: true, member };
}

function label(m: EtcdMemberInfo): string {
  return `${m.name === '' ? '(not started)' : m.name} [${m.hexId}]`;
}
