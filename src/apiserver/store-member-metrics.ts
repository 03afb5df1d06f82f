// Metrics of the managed etcd members, read when scraped through this server's membership (the
// status of every member, asked over its client URL): `trireme_etcd_member_healthy{member}`,
// `trireme_etcd_member_is_leader{member}`, `trireme_etcd_member_is_learner{member}`,
// `trireme_etcd_member_raft_lag{member}` (raft entries behind the leader), `trireme_etcd_members`
// (voting members), `trireme_etcd_has_quorum` (1 when more than half the voting members are
// healthy) and `trireme_etcd_leader_changes_total` (leader changes this server has seen between
// scrapes). Guarantees: `memberSamples` is pure; a scrape that cannot list the members reports
// `trireme_etcd_has_quorum 0` and no member series. Does not: count changes between two
// scrapes that went and came back (etcd's own etcd_server_leader_changes_seen_total does).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StoreMemberStatus } from '../api/cluster-status.js';
import type { StoreMembership } from './cluster-routes.js';

export interface MemberSamples {
  members: { member: string; healthy: number; leader: number; learner: number; lag?: number }[];
  voting: number;
  hasQuorum: number;
  leaderId: string | undefined;
}

export function memberSamples(statuses: readonly StoreMemberStatus[]): MemberSamples {
  const voting = statuses.filter((m) => !m.isLearner);
  const healthy = voting.filter((m) => m.healthy).length;
  return {
    members: statuses.map((m) => ({
      member: m.name || m.id, healthy: m.healthy ? 1 : 0, leader: m.isLeader ? 1 : 0, learner: m.isLearner ? 1 : 0,
      ...(m.lag !== undefined ? { lag: m.lag } : {}),
    })),
    voting: voting.length,
    hasQuorum: voting.length > 0 && healthy > voting.length / 2 ? 1 : 0,
    leaderId: statuses.find((m) => m.isLeader)?.id,
  };
}

export function registerMemberMetrics(registry: Registry, membership: StoreMembership): void {
  const registers = [registry];
  let lastLeader: string | undefined;
  let pending: Promise<MemberSamples | undefined> | undefined;
  // One read per scrape, shared by the families (as in cluster-state-metrics.ts).
  const compute = async (): Promise<MemberSamples | undefined> => {
    let s: MemberSamples;
    try {
      s = memberSamples(await membership.statuses());
    } catch {
      // The members cannot be listed (no quorum, for one): reported as has_quorum 0.
      return undefined;
    }
    if (s.leaderId !== undefined) {
      if (lastLeader !== undefined && s.leaderId !== lastLeader) changes.inc();
      lastLeader = s.leaderId;
    }
    return s;
  };
  const samples = (): Promise<MemberSamples | undefined> => {
    if (!pending) {
      const p = compute();
      pending = p;
      void p.then(() => { if (pending === p) pending = undefined; });
    }
    return pending;
  };
  // Counted when a scrape reads the members, so the change shows in that same scrape.
  const changes = new Counter({
    name: 'trireme_etcd_leader_changes_total', help: 'etcd leader changes this server has observed (between scrapes)', registers,
    async collect() {
      await samples();
    },
  });
  changes.inc(0);
  const perMember = (name: string, help: string, pick: (m: MemberSamples['members'][number]) => number | undefined) => new Gauge({
    name, help, labelNames: ['member'], registers,
    async collect() {
      this.reset();
      for (const m of (await samples())?.members ?? []) {
        const v = pick(m);
        if (v !== undefined) this.set({ member: m.member }, v);
      }
    },
  });
  perMember('trireme_etcd_member_healthy', '1 when the etcd member answers its status, reports no errors and knows a leader', (m) => m.healthy);
  perMember('trireme_etcd_member_is_leader', '1 for the etcd member the others name as leader', (m) => m.leader);
  perMember('trireme_etcd_member_is_learner', '1 for an etcd member that is a learner (not voting yet)', (m) => m.learner);
  perMember('trireme_etcd_member_raft_lag', 'Raft entries the etcd member is behind the leader', (m) => m.lag);
  new Gauge({
    name: 'trireme_etcd_members', help: 'Voting etcd members', registers,
    async collect() {
      const s = await samples();
      this.set(s?.voting ?? 0);
    },
  });
  new Gauge({
    name: 'trireme_etcd_has_quorum', help: '1 when more than half of the voting etcd members are healthy', registers,
    async collect() {
      const s = await samples();
      this.set(s?.hasQuorum ?? 0);
    },
  });
}
