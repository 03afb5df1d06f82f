// What `trireme doctor` looks at: one observation of a live cluster, gathered by gather.ts and
// judged by findings.ts. Plain data (JSON-safe), so the judgement is a pure function and tests
// seed broken clusters by hand. Times are ms since the epoch. Guarantees: types only.
import type { StoreMemberStatus, StoreBackend } from '../../api/cluster-status.js';

export interface ObservedCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface ObservedNode {
  name: string;
  conditions: ObservedCondition[];
  /** The API servers the node's agent balances over (its trireme.io/api-servers annotation); undefined if it did not say. */
  knownServers?: string[];
}

export interface ObservedWorkload {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
  /** spec.replicas (1 when unset, as the API defaults it). */
  replicas: number;
  /** The node of each scheduled, non-terminating pod the workload's selector matches. */
  podNodes: string[];
}

export interface ObservedLease {
  name: string;
  holder?: string;
  /** ms; undefined when never renewed. */
  renewTime?: number;
  durationSeconds?: number;
  transitions?: number;
}

/** A LeaderElection Event ("<identity> became leader") of one Lease. */
export interface ObservedElection {
  lease: string;
  identity: string;
  /** First and last time it was recorded, and how many times (the recorder folds repeats). */
  first: number;
  last: number;
  count: number;
}

export interface ObservedSnapshot {
  name: string;
  /** The server (machine) that took it and holds the file. */
  server: string;
  created: number;
}

export interface ObservedCertificate {
  /** The cluster CA, an API server's serving certificate, a node agent's serving certificate. */
  kind: 'ca' | 'apiserver' | 'kubelet';
  /** What the certificate is for, e.g. `API server 127.0.0.1:6443 serving certificate`. */
  subject: string;
  notAfter: number;
}

export interface Observation {
  /** The API servers in `default/kubernetes` (`ip:port`). */
  servers: string[];
  store: { backend: StoreBackend; members: StoreMemberStatus[]; error?: string };
  /** The kube-controller-manager and kube-scheduler Leases. */
  leases: ObservedLease[];
  elections: ObservedElection[];
  nodes: ObservedNode[];
  workloads: ObservedWorkload[];
  /** kube-system/coredns, when it exists (the cluster DNS add-on). */
  dns?: ObservedWorkload;
  /** The records of kube-system/trireme-snapshots; undefined when that ConfigMap does not exist. */
  snapshots?: ObservedSnapshot[];
  certificates: ObservedCertificate[];
}
