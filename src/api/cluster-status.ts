// The control plane's own status, as GET /trireme/v1/cluster answers it and `trireme cluster
// status` prints it: the API servers (from the `default/kubernetes` Endpoints), the store and
// its members (leader, learners, health, raft index lag), and the holders of the
// kube-controller-manager and kube-scheduler Leases. Shared by the server and the CLI.
// Guarantees: the formatting functions are pure and print every member and server given, one
// line each, with "-" for an unknown value. Does not: fetch anything.

export interface StoreMemberStatus {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLeader: boolean;
  isLearner: boolean;
  healthy: boolean;
  /** The member's raft index, when it answered. */
  raftIndex?: number;
  /** How far the member's raft index is behind the leader's, when both answered. */
  lag?: number;
  /** Why the member is not healthy, when known. */
  error?: string;
}

export type StoreBackend = 'sqlite' | 'etcd' | 'managed-etcd';

export interface ClusterStatus {
  apiVersion: 'trireme/v1';
  kind: 'ClusterStatus';
  /** The member name of the server that answered (managed etcd only). */
  answeredBy?: string;
  servers: { address: string }[];
  store: { backend: StoreBackend; members: StoreMemberStatus[]; error?: string };
  leases: { name: string; holder?: string; renewTime?: string; transitions?: number }[];
}

const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));

export function memberRole(m: StoreMemberStatus): string {
  return m.isLearner ? 'learner' : m.isLeader ? 'leader' : 'follower';
}

/** One line for /readyz?verbose. */
export function memberLine(m: StoreMemberStatus): string {
  const health = m.healthy ? 'healthy' : `unhealthy${m.error ? ` (${m.error})` : ''}`;
  return `store member ${m.name || m.id}: ${memberRole(m)}, ${health}, raft index ${dash(m.raftIndex)}, lag ${dash(m.lag)}, ${m.clientUrls.join(',') || 'no client URL'}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd());
}

/** A leader Lease as one /readyz?verbose line: `leader lease kube-scheduler: s2_ab12 (transitions 3, renewed …)`. */
export function leaseLine(l: ClusterStatus['leases'][number]): string {
  return l.holder ? `leader lease ${l.name}: ${l.holder} (transitions ${dash(l.transitions)}, renewed ${dash(l.renewTime)})` : `leader lease ${l.name}: no holder`;
}

export function formatClusterStatus(s: ClusterStatus): string {
  const out: string[] = [];
  out.push(`SERVERS (${s.servers.length})`);
  out.push(...(s.servers.length === 0 ? ['  none'] : s.servers.map((v) => `  ${v.address}`)));
  out.push('');
  out.push(`STORE ${s.store.backend}${s.store.error ? ` (${s.store.error})` : ''}`);
  if (s.store.members.length > 0) {
    const rows = [['NAME', 'ROLE', 'HEALTH', 'RAFT INDEX', 'LAG', 'CLIENT URL']];
    for (const m of s.store.members) {
      rows.push([m.name || `(unstarted ${m.id})`, memberRole(m), m.healthy ? 'healthy' : 'unhealthy', dash(m.raftIndex), dash(m.lag), m.clientUrls.join(',') || '-']);
    }
    out.push(...table(rows).map((l) => `  ${l}`));
  }
  out.push('');
  out.push('LEASES');
  const rows = [['NAME', 'HOLDER', 'RENEWED', 'TRANSITIONS']];
  for (const l of s.leases) rows.push([l.name, dash(l.holder), dash(l.renewTime), dash(l.transitions)]);
  out.push(...table(rows).map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}
