// The managed etcd member's public surface (DESIGN.md §4, docs/ha.md "Managed etcd"): one import
// for the server and the join code. Re-exports only; each module documents its own guarantees.
export { etcdPaths, loadMemberConfig, saveMemberConfig, checkMemberConfig, clusterInitConfig, joinConfig, type EtcdPaths, type MemberConfig } from './paths.js';
export { ensureEtcdTls, memberSans, ETCD_CLIENT_COMMON_NAME, type EtcdTls, type EtcdClientTls } from './tls.js';
export { etcdArgs, DEFAULT_TUNING, type EtcdTuning } from './args.js';
export { nextRestart, DEFAULT_BACKOFF, type BackoffPolicy, type BackoffState } from './backoff.js';
export { findLeftovers, killLeftovers } from './leftover.js';
export { probeMember, probeIsReady, type MemberProbe } from './health.js';
export { startEtcdMember, memberRemovedError, logSaysRemoved, DEFAULT_ETCD_BINARY, type ManagedEtcd, type StartEtcdOptions } from './member.js';
export { openEtcdAdmin, initialClusterOf, planRemoval, matchMembers, hexId, type EtcdAdmin, type EtcdMemberInfo, type MemberStatus, type RemovalPlan } from './membership.js';
