// The managed etcd store of a `trireme server`, for the modes server-mode.ts decides: a new
// one-member cluster (init), a join of an existing one (join), a restart of the member in
// DATA/etcd (restart-managed), a one-member cluster from this member's data (reset), or the
// member a snapshot restore prepared in DATA/etcd (restore-managed, src/ops/snapshot). It ends
// with this server's member running and caught up, the store endpoints (its own member first,
// then the other voting members), the client TLS, and the membership the API server serves.
// Guarantees:
// - init writes DATA/etcd/member.json before the CA, so a crash in between restarts as this
//   member, never as "a CA without a cluster";
// - join sends nothing before the CA matched the token's pin and writes nothing before the
//   bundle opened (server-join.ts); it adds the member as a learner (etcd-member's addLearner,
//   which reuses a learner a crashed join left behind), saves member.json, starts the member
//   with state existing and returns only once it was promoted to a voting member and has
//   applied the cluster's revision at that moment;
// - a restart finishes a promotion a crash interrupted (through the voting members it joined by,
//   saved in DATA/etcd-join.json);
// - a member the cluster removed is a MemberRemoved error whose one-line message says how to
//   rejoin (src/etcd), and the member is stopped.
// Does not: follow membership changes after start (the store keeps the endpoints it got), or
// start the API server.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreMembership } from '../apiserver/cluster-routes.js';
import type { StoreMemberStatus } from '../api/cluster-status.js';
import { ensurePki } from '../apiserver/pki.js';
import { ensureEtcdTls, loadMemberConfig, saveMemberConfig, startEtcdMember, type EtcdClientTls, type ManagedEtcd, type MemberConfig } from '../etcd/index.js';
import { openEtcdAdmin, type EtcdAdmin } from '../etcd/membership.js';
import { TriremeError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { writePrivateFile } from '../util/private-file.js';
import { requestJoinBundle, writeJoinSecrets } from './server-join.js';
import type { ServerPlan } from './server-mode.js';

export interface ManagedStoreOptions {
  plan: Extract<ServerPlan, { mode: 'init' | 'join' | 'restart-managed' | 'reset' | 'restore-managed' }>;
  dataDir: string;
  /** Member name (the server's node name). */
  name: string;
  /** The address the member listens on and advertises. */
  ip: string;
  clientPort: number;
  peerPort: number;
  /** SANs of the API serving certificate (ensurePki is run here first on init and join). */
  tlsSans: string[];
  logger: Logger;
  clock?: Clock;
  etcdBinary?: string;
  /** How long a joined learner may take to catch up (default 120 s). */
  promoteTimeoutMs?: number;
}

export interface ManagedStore {
  member: ManagedEtcd;
  /** Store endpoints: this server's member first, then the other voting members. */
  endpoints: string[];
  tls: EtcdClientTls;
  membership: StoreMembership;
  stop(): Promise<void>;
}

/** Where a joined server keeps the voting members it joined through (to finish a promotion). */
export function joinRecordPath(dataDir: string): string {
  return join(dataDir, 'etcd-join.json');
}

const hostUrl = (ip: string, port: number): string => `https://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

async function readJoinRecord(dataDir: string): Promise<string[]> {
  try {
    const doc = JSON.parse(await readFile(joinRecordPath(dataDir), 'utf8')) as { etcdClientUrls?: unknown };
    return Array.isArray(doc.etcdClientUrls) ? doc.etcdClientUrls.filter((u): u is string => typeof u === 'string') : [];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export async function startManagedStore(opts: ManagedStoreOptions): Promise<ManagedStore> {
  const { dataDir, name, logger: log, plan } = opts;
  const peerUrl = hostUrl(opts.ip, opts.peerPort);
  const clientUrl = hostUrl(opts.ip, opts.clientPort);
  let config: MemberConfig | undefined;
  let joinedAs: { memberId: string; admin: EtcdAdmin } | undefined;

  if (plan.mode === 'init') {
    config = { name, peerUrl, clientUrl, initialCluster: `${name}=${peerUrl}`, initialClusterState: 'new' };
    await saveMemberConfig(dataDir, config);
  } else if (plan.mode === 'join') {
    const bundle = await requestJoinBundle(plan.server, plan.token, { name, peerUrl, clientUrl }, { logger: log, clock: opts.clock });
    await writeJoinSecrets(dataDir, bundle);
    await writePrivateFile(joinRecordPath(dataDir), `${JSON.stringify({ server: plan.server, etcdClientUrls: bundle.etcdClientUrls })}\n`);
    log.info({ server: plan.server, etcd: bundle.etcdClientUrls }, 'received the cluster secrets; adding this server as an etcd learner');
  } else {
    config = await loadMemberConfig(dataDir);
    if (config === undefined) throw new TriremeError('BadRequest', `no managed etcd member in ${dataDir} (etcd/member.json)`);
  }

  const memberName = config?.name ?? name;
  const ip = config ? new URL(config.peerUrl).hostname.replace(/^\[|\]$/g, '') : opts.ip;
  const pki = await ensurePki(dataDir, { sans: [opts.ip, ...opts.tlsSans] });
  const tls = await ensureEtcdTls(dataDir, pki, { name: memberName, ip });

  if (plan.mode === 'join') {
    const bundleUrls = await readJoinRecord(dataDir);
    const admin = openEtcdAdmin({ endpoints: bundleUrls, tls: tls.client, clock: opts.clock });
    try {
      const added = await admin.addLearner(name, peerUrl);
      config = { name, peerUrl, clientUrl, initialCluster: added.initialCluster, initialClusterState: 'existing' };
      await saveMemberConfig(dataDir, config);
      joinedAs = { memberId: added.memberId, admin };
    } catch (e) {
      admin.close();
      throw e;
    }
  }

  const member = await startEtcdMember({
    dataDir, tls, logger: log, clock: opts.clock, etcdBinary: opts.etcdBinary,
    ...(plan.mode === 'init' || plan.mode === 'join' ? { config } : {}),
    ...(plan.mode === 'reset' ? { forceNewCluster: true } : {}),
  });
  try {
    await member.ready({ timeoutMs: 60_000 });
    if (joinedAs) {
      log.info({ member: name }, 'etcd learner started; promoting it once it caught up');
      await joinedAs.admin.promoteWhenCaughtUp(joinedAs.memberId, { timeoutMs: opts.promoteTimeoutMs ?? 120_000 });
      log.info({ member: name }, 'etcd member promoted to a voting member');
      // Promotion only needs the learner's raft log in step; the store's watches must not reach
      // this member before it has applied what it was sent (a snapshot restore in progress left
      // them silent), so it first catches up with the cluster's revision.
      const revision = await joinedAs.admin.waitApplied(member.clientUrl);
      log.info({ member: name, revision }, 'etcd member has applied the cluster\'s revision');
    } else if (plan.mode === 'restart-managed') {
      await finishPromotion(dataDir, member, tls.client, log, opts);
    }
  } catch (e) {
    joinedAs?.admin.close();
    await member.stop();
    throw e;
  }
  joinedAs?.admin.close();

  const own = openEtcdAdmin({ endpoints: [member.clientUrl], tls: tls.client, clock: opts.clock });
  let others: string[];
  try {
    others = (await own.listMembers()).filter((m) => !m.isLearner && m.name !== '' && m.name !== member.name).flatMap((m) => m.clientUrls);
  } finally {
    own.close();
  }
  const endpoints = [member.clientUrl, ...others.filter((u) => u !== member.clientUrl)];
  const admin = openEtcdAdmin({ endpoints, tls: tls.client, clock: opts.clock });
  const membership: StoreMembership = {
    ownName: member.name,
    statuses: async () => (await admin.memberStatuses()).map((m): StoreMemberStatus => ({
      id: m.hexId, name: m.name, peerUrls: m.peerUrls, clientUrls: m.clientUrls, isLeader: m.isLeader, isLearner: m.isLearner,
      healthy: m.healthy, ...(m.raftIndex !== undefined ? { raftIndex: m.raftIndex } : {}), ...(m.lag !== undefined ? { lag: m.lag } : {}),
      ...(m.problem !== undefined ? { error: m.problem } : {}),
    })),
    remove: async (target) => {
      const removed = await admin.removeMember(target);
      log.info({ member: removed.name, id: removed.hexId }, 'etcd member removed');
    },
  };
  return {
    member, endpoints, tls: tls.client, membership,
    async stop() {
      admin.close();
      await member.stop();
    },
  };
}

/**
 * A restarted member that is still a learner (a join interrupted before its promotion) is
 * promoted now. A voting member answers the member list itself; a learner does not, and then
 * the members it joined through are asked.
 */
async function finishPromotion(dataDir: string, member: ManagedEtcd, tls: EtcdClientTls, log: Logger, opts: ManagedStoreOptions): Promise<void> {
  const own = openEtcdAdmin({ endpoints: [member.clientUrl], tls, clock: opts.clock });
  try {
    const self = (await own.listMembers()).find((m) => m.name === member.name);
    if (self !== undefined && !self.isLearner) return;
  } catch (e) {
    log.debug({ err: (e as Error).message }, 'own member does not answer the member list (a learner?)');
  } finally {
    own.close();
  }
  const urls = await readJoinRecord(dataDir);
  if (urls.length === 0) return;
  const admin = openEtcdAdmin({ endpoints: urls, tls, clock: opts.clock });
  try {
    const self = (await admin.listMembers()).find((m) => m.name === member.name || m.peerUrls.includes(member.peerUrl));
    if (self?.isLearner) {
      log.info({ member: member.name }, 'this member is still a learner (an interrupted join); promoting it once it caught up');
      await admin.promoteWhenCaughtUp(self.id, { timeoutMs: opts.promoteTimeoutMs ?? 120_000 });
      await admin.waitApplied(member.clientUrl); // as after a join: no watch before it caught up
    }
  } finally {
    admin.close();
  }
}
