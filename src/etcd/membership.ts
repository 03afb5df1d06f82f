// Cluster membership of the managed etcd over the etcd v3 API with TLS (the `etcd3` client):
// list, add a learner, promote it once it caught up, remove a member under the quorum guard of
// removal-plan.ts, and per-member status (leader, learner, health, raft index, lag).
// Guarantees: every call has a deadline; `addLearner` is idempotent for a retried join (a
// learner already added with the same peer URL is reused) and refuses, naming the member, when
// another learner is still joining (etcd 3.4 allows one at a time) or the name or peer URL is
// taken; it and `removeMember` retry (bounded) while etcd refuses reconfiguration as unhealthy,
// as it does for 5 s after a member joined; `promoteWhenCaughtUp` retries only while etcd says the learner is not in sync (or the
// cluster is briefly unavailable), up to its bound; `removeMember` removes nothing that
// `planRemoval` refuses.
// Does not: start or stop members (member.ts), or talk to a learner's endpoint for cluster
// calls (pass voting members' client URLs as endpoints).
import { circuitBreaker, ConsecutiveBreaker, ConstantBackoff, handleAll, noop, retry } from 'cockatiel';
import { Etcd3, type IMember } from 'etcd3';
import { TriremeError } from '../errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { hexId, planRemoval, type EtcdMemberInfo } from './removal-plan.js';
import type { EtcdClientTls } from './tls.js';

export { planRemoval, matchMembers, hexId, type EtcdMemberInfo, type RemovalPlan } from './removal-plan.js';

const CALL_DEADLINE_MS = 5_000;
const STATUS_DEADLINE_MS = 2_000;

export interface MemberStatus extends EtcdMemberInfo {
  isLeader: boolean;
  /** The member answered its status, reports no errors and knows a leader. */
  healthy: boolean;
  /** Its raft index, when it answered. */
  raftIndex?: number;
  /** Leader's raft index minus its own, when both answered. */
  lag?: number;
  /** Why it is not healthy. */
  problem?: string;
}

export interface EtcdAdmin {
  listMembers(): Promise<EtcdMemberInfo[]>;
  /** Adds `peerUrl` as a learner; `initialCluster` is what the new member starts with. */
  addLearner(name: string, peerUrl: string, opts?: { timeoutMs?: number }): Promise<{ memberId: string; initialCluster: string }>;
  promoteWhenCaughtUp(memberId: string, opts?: { timeoutMs?: number; everyMs?: number }): Promise<void>;
  /**
   * Waits until the member at `url` has applied the cluster's current revision (asked through
   * this admin's endpoints once, at the call): a member promoted while still restoring the
   * snapshot it was sent would otherwise take watches it does not serve yet.
   */
  waitApplied(url: string, opts?: { timeoutMs?: number; everyMs?: number }): Promise<number>;
  /** Removes the member named by name, decimal or hex id, if `planRemoval` allows it. */
  removeMember(nameOrId: string): Promise<EtcdMemberInfo>;
  memberStatuses(): Promise<MemberStatus[]>;
  close(): void;
}

function credentials(tls: EtcdClientTls | undefined): { credentials?: { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer } } {
  return tls === undefined ? {} : { credentials: { rootCertificate: Buffer.from(tls.caPem), certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) } };
}

function toInfo(m: IMember): EtcdMemberInfo {
  return { id: String(m.ID), hexId: hexId(String(m.ID)), name: m.name, peerUrls: m.peerURLs ?? [], clientUrls: m.clientURLs ?? [], isLearner: m.isLearner === true };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `name=peerUrl,...` for a joining member; members not started yet get a stand-in name. */
export function initialClusterOf(members: readonly EtcdMemberInfo[], newId: string, newName: string): string {
  return members
    .flatMap((m) => {
      const name = m.id === newId ? newName : m.name !== '' ? m.name : `unstarted-${m.hexId}`;
      return m.peerUrls.map((u) => `${name}=${u}`);
    })
    .join(',');
}

export function openEtcdAdmin(opts: { endpoints: string[]; tls?: EtcdClientTls; clock?: Clock }): EtcdAdmin {
  if (opts.endpoints.length === 0) throw new TriremeError('BadRequest', 'etcd admin needs at least one endpoint');
  const clock = opts.clock ?? systemClock;
  const client = new Etcd3({
    hosts: opts.endpoints,
    ...credentials(opts.tls),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
    faultHandling: {
      host: () => circuitBreaker(handleAll, { halfOpenAfter: 200, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(50) }),
    },
  });

  const listMembers = async (): Promise<EtcdMemberInfo[]> => (await client.cluster.memberList({})).members.map(toInfo);

  const statusOf = async (url: string): Promise<{ leader: string; raftIndex: number; errors: string[]; isLearner: boolean }> => {
    const one = new Etcd3({ hosts: [url], ...credentials(opts.tls), faultHandling: { host: () => noop, global: noop } });
    try {
      const s = await one.maintenance.status({ deadline: Date.now() + STATUS_DEADLINE_MS });
      return { leader: String(s.leader), raftIndex: Number(s.raftIndex), errors: s.errors ?? [], isLearner: s.isLearner === true };
    } finally {
      one.close();
    }
  };

  // etcd refuses reconfiguration until every voter has been connected for its health interval
  // (5 s), e.g. right after the previous member joined: retry that, bounded (default 30 s).
  const whileUnhealthy = async <T>(what: string, timeoutMs: number | undefined, change: () => Promise<T>): Promise<T> => {
    const bound = timeoutMs ?? 30_000;
    const deadline = clock.now() + bound;
    for (;;) {
      try {
        return await change();
      } catch (e) {
        const msg = message(e);
        if (!/unhealthy cluster|not enough started members/i.test(msg)) throw e;
        if (clock.now() >= deadline) throw new TriremeError('ServiceUnavailable', `etcd refused to ${what} for ${bound} ms: ${msg}`, { cause: e });
      }
      await new Promise<void>((r) => clock.setTimeout(r, 500));
    }
  };

  const revisionOf = async (url: string): Promise<number> => {
    const one = new Etcd3({ hosts: [url], ...credentials(opts.tls), faultHandling: { host: () => noop, global: noop } });
    try {
      return Number((await one.maintenance.status({ deadline: Date.now() + STATUS_DEADLINE_MS })).header.revision);
    } finally {
      one.close();
    }
  };

  return {
    listMembers,

    async waitApplied(url, p = {}) {
      const target = Number((await client.maintenance.status()).header.revision);
      const bound = p.timeoutMs ?? 60_000;
      const deadline = clock.now() + bound;
      let last: unknown;
      for (;;) {
        try {
          if ((await revisionOf(url)) >= target) return target;
        } catch (e) {
          last = e; // restoring a snapshot, the member may not answer for a moment
        }
        if (clock.now() >= deadline) throw new TriremeError('ServiceUnavailable', `etcd member ${url} did not reach the cluster's revision ${target} in ${bound} ms${last === undefined ? '' : `: ${message(last)}`}`);
        await new Promise<void>((r) => clock.setTimeout(r, p.everyMs ?? 50));
      }
    },

    async addLearner(name, peerUrl, p = {}) {
      const members = await listMembers();
      const samePeer = members.find((m) => m.peerUrls.includes(peerUrl));
      if (samePeer) {
        if (samePeer.isLearner && (samePeer.name === '' || samePeer.name === name)) {
          return { memberId: samePeer.id, initialCluster: initialClusterOf(members, samePeer.id, name) };
        }
        throw new TriremeError('Conflict', `peer URL ${peerUrl} already belongs to etcd member ${samePeer.name || '(not started)'} [${samePeer.hexId}]`, { context: { memberId: samePeer.id } });
      }
      const sameName = members.find((m) => m.name === name);
      if (sameName) {
        throw new TriremeError('Conflict', `an etcd member named ${name} [${sameName.hexId}] already exists with peer URL ${sameName.peerUrls.join(', ')}; remove it first`, { context: { memberId: sameName.id } });
      }
      const learner = members.find((m) => m.isLearner);
      if (learner) {
        throw new TriremeError('Conflict', `etcd allows one learner at a time and ${learner.name || '(not started)'} [${learner.hexId}] at ${learner.peerUrls.join(', ')} is still joining; wait for its promotion or remove it`, { context: { memberId: learner.id } });
      }
      const res = await whileUnhealthy(`add ${name}`, p.timeoutMs, async () => {
        try {
          return await client.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true });
        } catch (e) {
          if (/too many learner/i.test(message(e))) throw new TriremeError('Conflict', 'etcd allows one learner at a time and another server is joining; retry once it is promoted', { cause: e });
          throw e;
        }
      });
      const id = String(res.member.ID);
      return { memberId: id, initialCluster: initialClusterOf(res.members.map(toInfo), id, name) };
    },

    async promoteWhenCaughtUp(memberId, p = {}) {
      const timeoutMs = p.timeoutMs ?? 60_000;
      const everyMs = p.everyMs ?? 500;
      const deadline = clock.now() + timeoutMs;
      let last = '';
      for (;;) {
        try {
          await client.cluster.memberPromote({ ID: memberId });
          return;
        } catch (e) {
          last = message(e);
          if (/member not found/i.test(last)) throw new TriremeError('NotFound', `etcd member ${hexId(memberId)} does not exist`, { cause: e });
          if (/can only promote a learner member$/i.test(last.trim()) || /not a learner/i.test(last)) {
            const m = (await listMembers()).find((x) => x.id === memberId);
            if (m && !m.isLearner) return; // promoted already (an earlier attempt's answer was lost)
          }
        }
        if (clock.now() >= deadline) {
          throw new TriremeError('Timeout', `etcd learner ${hexId(memberId)} was not promoted within ${timeoutMs} ms: ${last}`, { context: { memberId } });
        }
        await new Promise<void>((r) => clock.setTimeout(r, everyMs));
      }
    },

    async removeMember(nameOrId) {
      const statuses = await this.memberStatuses();
      const plan = planRemoval(statuses, new Map(statuses.map((s) => [s.id, s.healthy])), nameOrId);
      if (!plan.ok) throw new TriremeError(plan.code, plan.reason, { context: { target: nameOrId } });
      await whileUnhealthy(`remove ${plan.member.name || plan.member.hexId}`, undefined, () => client.cluster.memberRemove({ ID: plan.member.id }));
      return plan.member;
    },

    async memberStatuses() {
      const members = await listMembers();
      type Answer = { status?: Awaited<ReturnType<typeof statusOf>>; problem?: string };
      const answers = await Promise.all(
        members.map(async (m): Promise<Answer> => {
          const url = m.clientUrls[0];
          if (url === undefined) return { problem: 'not started (no client URL)' };
          try {
            return { status: await statusOf(url) };
          } catch (e) {
            return { problem: message(e) };
          }
        }),
      );
      // The leader is who the answering members name; the most named wins if they disagree.
      const votes = new Map<string, number>();
      for (const a of answers) if (a.status !== undefined && a.status.leader !== '0') votes.set(a.status.leader, (votes.get(a.status.leader) ?? 0) + 1);
      const leaderId = [...votes].sort((x, y) => y[1] - x[1])[0]?.[0];
      const leaderIdx = members.findIndex((m) => m.id === leaderId);
      const leaderAnswer = leaderIdx >= 0 ? answers[leaderIdx] : undefined;
      const leaderIndex = leaderAnswer?.status?.raftIndex;
      return members.map((m, i): MemberStatus => {
        const a = answers[i]!;
        const out: MemberStatus = { ...m, isLeader: m.id === leaderId, healthy: false };
        if (a.status === undefined) {
          out.problem = a.problem ?? 'no answer';
          return out;
        }
        out.raftIndex = a.status.raftIndex;
        if (leaderIndex !== undefined) out.lag = Math.max(0, leaderIndex - a.status.raftIndex);
        if (a.status.errors.length > 0) out.problem = a.status.errors.join('; ');
        else if (a.status.leader === '0') out.problem = 'knows no leader';
        out.healthy = out.problem === undefined;
        return out;
      });
    },

    close() {
      client.close();
    },
  };
}
