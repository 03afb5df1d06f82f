// The etcd command line of a managed member, as a pure function of its config, paths and TLS
// files (so the flags are unit-tested without running etcd).
// Guarantees: TLS on both the client and the peer side with client-certificate authentication
// against the cluster CA; listen = advertise URLs (one per side); initial-cluster flags always
// passed (etcd reads them only while its data dir is empty); `--force-new-cluster` only when asked.
// Does not: check that the URLs are reachable or that the ports are free.
import type { EtcdPaths, MemberConfig } from './paths.js';
import type { EtcdTls } from './tls.js';

export interface EtcdTuning {
  /** Raft heartbeat (default 100 ms). */
  heartbeatMs?: number;
  /** Raft election timeout (default 1000 ms). */
  electionMs?: number;
  /**
   * How often etcd sends progress notifications on watches that asked for them (default 500 ms):
   * the API servers' watch caches learn from them that they are current.
   */
  watchProgressNotifyMs?: number;
}

export const DEFAULT_TUNING: Required<EtcdTuning> = { heartbeatMs: 100, electionMs: 1000, watchProgressNotifyMs: 500 };

export function etcdArgs(cfg: MemberConfig, paths: EtcdPaths, tls: Pick<EtcdTls, 'caFile' | 'serverCertFile' | 'serverKeyFile' | 'peerCertFile' | 'peerKeyFile'>, opts: EtcdTuning & { forceNewCluster?: boolean } = {}): string[] {
  const t = { ...DEFAULT_TUNING, ...stripUndefined(opts) };
  const args = [
    `--name=${cfg.name}`,
    `--data-dir=${paths.data}`,
    `--listen-client-urls=${cfg.clientUrl}`,
    `--advertise-client-urls=${cfg.clientUrl}`,
    `--listen-peer-urls=${cfg.peerUrl}`,
    `--initial-advertise-peer-urls=${cfg.peerUrl}`,
    `--initial-cluster=${cfg.initialCluster}`,
    `--initial-cluster-state=${cfg.initialClusterState}`,
    `--initial-cluster-token=trireme`,
    `--cert-file=${tls.serverCertFile}`,
    `--key-file=${tls.serverKeyFile}`,
    '--client-cert-auth',
    `--trusted-ca-file=${tls.caFile}`,
    `--peer-cert-file=${tls.peerCertFile}`,
    `--peer-key-file=${tls.peerKeyFile}`,
    '--peer-client-cert-auth',
    `--peer-trusted-ca-file=${tls.caFile}`,
    `--heartbeat-interval=${t.heartbeatMs}`,
    `--election-timeout=${t.electionMs}`,
    `--experimental-watch-progress-notify-interval=${t.watchProgressNotifyMs}ms`,
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  if (opts.forceNewCluster === true) args.push('--force-new-cluster');
  return args;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
