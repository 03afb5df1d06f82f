// Which store a `trireme server` runs on, decided from its flags and what its data dir holds
// (a pure function, table-tested): the embedded SQLite store, an external etcd, a new managed
// etcd cluster (--cluster-init), a join of an existing one (--server + --token), a restart of
// the managed member found in DATA/etcd (no flags needed), or a reset of that member into a
// one-member cluster (--cluster-reset), or a reset from a snapshot file (--cluster-reset
// --restore-from FILE: SQLite or a one-member managed etcd, as the snapshot holds).
// Guarantees: every contradiction is a BadRequest whose message is one line naming the flags or
// the data-dir file in the way, and nothing has been changed when it is thrown. A data dir with a
// managed member is restarted as such whatever join/init flags are repeated (service units keep
// their flags), so a restart never needs flags to be removed.
// Does not: look at the disk (the caller reads DataDirState), or know whether the member was
// removed from its cluster (etcd says so when the member starts).

import { TriremeError } from '../errors.js';

export interface ServerModeFlags {
  clusterInit?: boolean;
  /** URL of a server of the cluster to join. */
  server?: string;
  token?: string;
  clusterReset?: boolean;
  etcdEndpoints?: string[];
  /** --restore-from FILE, with the store kind its manifest names (the caller reads it). */
  restoreFrom?: { file: string; store: 'sqlite' | 'etcd' };
}

/** What the data dir holds, read by the caller. */
export interface DataDirState {
  /** DATA/trireme.db exists. */
  sqliteStore: boolean;
  /** DATA/etcd/member.json exists. */
  memberConfig: boolean;
  /** SHA-256 (hex) of DATA/tls/ca.crt, when there is one. */
  caHash?: string;
}

export type ServerPlan =
  | { mode: 'sqlite' }
  | { mode: 'external-etcd'; endpoints: string[] }
  | { mode: 'init' }
  | { mode: 'join'; server: string; token: string }
  | { mode: 'restart-managed'; ignoredFlags: string[] }
  | { mode: 'reset' }
  /** --cluster-reset --restore-from a SQLite snapshot: the store file comes from the snapshot. */
  | { mode: 'restore-sqlite'; file: string }
  /** --cluster-reset --restore-from an etcd snapshot: a one-member managed cluster from the snapshot. */
  | { mode: 'restore-managed'; file: string };

const bad = (msg: string): TriremeError => new TriremeError('BadRequest', msg);

/** The CA hash a K10 token pins, if it pins one (a bare secret pins nothing). */
function pinnedHash(token: string): string | undefined {
  const m = /^K10([0-9a-fA-F]{64})::/.exec(token.trim());
  return m?.[1]?.toLowerCase();
}

export function planServerStart(flags: ServerModeFlags, state: DataDirState): ServerPlan {
  const init = flags.clusterInit === true;
  const reset = flags.clusterReset === true;
  const join = flags.server !== undefined;
  const external = flags.etcdEndpoints !== undefined && flags.etcdEndpoints.length > 0;

  if (init && join) throw bad('--cluster-init starts a new cluster and --server joins an existing one: give one of them');
  if (reset && (init || join)) throw bad('--cluster-reset restarts this server\'s own etcd member as a one-member cluster: it takes neither --cluster-init nor --server');
  if (external && (init || join || reset)) throw bad('--etcd-endpoints names an external etcd; --cluster-init, --server and --cluster-reset are for the managed one: give one kind');
  if (join && (flags.token === undefined || flags.token.trim() === '')) throw bad('--server needs --token (the first server\'s DATA_DIR/token)');
  if (!join && flags.token !== undefined) throw bad('--token is for joining, with --server URL of a running server');

  if (flags.restoreFrom !== undefined) {
    if (!reset) throw bad('--restore-from replaces the cluster\'s state: give --cluster-reset with it');
    if (external) throw bad('--restore-from restores into this server\'s own store: it takes no --etcd-endpoints');
    if (flags.restoreFrom.store === 'sqlite') {
      if (state.memberConfig) throw bad('the snapshot holds a SQLite store but the data dir has a managed etcd member (etcd/member.json): restore into a fresh data dir');
      return { mode: 'restore-sqlite', file: flags.restoreFrom.file };
    }
    if (state.sqliteStore) throw bad('the snapshot holds an etcd store but the data dir has a SQLite store (trireme.db): restore into a fresh data dir');
    return { mode: 'restore-managed', file: flags.restoreFrom.file };
  }
  if (external) {
    if (state.memberConfig) throw bad('the data dir has a managed etcd member (etcd/member.json): drop --etcd-endpoints, or use a fresh data dir for an external etcd');
    return { mode: 'external-etcd', endpoints: flags.etcdEndpoints! };
  }
  if (reset) {
    if (!state.memberConfig) throw bad('--cluster-reset needs a managed etcd member in the data dir (etcd/member.json), and this one has none');
    return { mode: 'reset' };
  }
  if (state.memberConfig) {
    const ignoredFlags = [...(init ? ['--cluster-init'] : []), ...(join ? ['--server', '--token'] : [])];
    return { mode: 'restart-managed', ignoredFlags };
  }
  if (init) {
    if (state.sqliteStore) throw bad('the data dir holds a single-server SQLite store (trireme.db): --cluster-init would start an empty cluster beside it; use a fresh data dir');
    if (state.caHash !== undefined) throw bad('the data dir holds an existing cluster\'s CA (tls/ca.crt) but no managed etcd member: --cluster-init would start another cluster with it; use a fresh data dir');
    return { mode: 'init' };
  }
  if (join) {
    if (state.sqliteStore) throw bad('the data dir holds a single-server SQLite store (trireme.db): a joining server would leave it behind; use a fresh data dir');
    const pin = pinnedHash(flags.token!);
    if (state.caHash !== undefined && pin !== undefined && pin !== state.caHash.toLowerCase()) {
      throw bad('the data dir holds another cluster\'s CA (tls/ca.crt) than the one --token pins; use a fresh data dir');
    }
    return { mode: 'join', server: flags.server!, token: flags.token!.trim() };
  }
  return { mode: 'sqlite' };
}
