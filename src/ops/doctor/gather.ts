// Gathers the doctor's observation (observation.ts) of the cluster an API server serves, on that
// server: its registry (nodes, workloads, pods, leases, LeaderElection events, the snapshot
// records ConfigMap), the control plane's status (servers, store members: cluster-routes.ts), the
// cluster CA, and the certificates the API servers and node agents present (a TLS handshake with
// each). One gathering for every consumer: GET /trireme/v1/cluster/doctor (which `trireme doctor`
// and the dashboard call) is its only caller.
// Guarantees: reads only; a server or agent that cannot be reached contributes no certificate
// (the doctor reports it through Endpoints, store members and node conditions instead); records
// of the snapshots ConfigMap that are not JSON with `server` and `created` are skipped.
// Does not: judge anything (findings.ts does), or see agents' client certificates (they are only
// shown when an agent connects).
import { X509Certificate } from 'node:crypto';
import type { ClusterStatus } from '../../api/cluster-status.js';
import { API_SERVERS_ANNOTATION } from '../../api/node-annotations.js';
import type { KubeObject } from '../../api/object.js';
import { findByKind } from '../../api/resources.js';
import { labelSelectorFromObject, matchesLabels } from '../../api/selectors.js';
import { SYSTEM_NAMESPACE } from '../../api/namespaces.js';
import { parseKubeTime } from '../../api/time.js';
import type { Registry } from '../../apiserver/registry.js';
import { kubeletAddress } from '../../apiserver/resource-metrics.js';
import { isTriremeError } from '../../errors.js';
import type { Observation, ObservedCertificate, ObservedElection, ObservedLease, ObservedNode, ObservedSnapshot, ObservedWorkload } from './observation.js';
import { peerCertificateExpiry } from './peer-cert.js';

const NODES = findByKind('v1', 'Node')!;
const PODS = findByKind('v1', 'Pod')!;
const EVENTS = findByKind('v1', 'Event')!;
const CONFIGMAPS = findByKind('v1', 'ConfigMap')!;
const LEASES = findByKind('coordination.k8s.io/v1', 'Lease')!;
const DEPLOYMENTS = findByKind('apps/v1', 'Deployment')!;
const STATEFULSETS = findByKind('apps/v1', 'StatefulSet')!;

export const SNAPSHOT_RECORDS = 'trireme-snapshots';
export const DNS_DEPLOYMENT = 'coredns';
const LEADER_LEASES = ['kube-controller-manager', 'kube-scheduler'];

export interface GatherDeps {
  registry: Registry;
  clusterStatus(): Promise<ClusterStatus>;
  caPem: string;
  /** Expiry of the certificate served at host:port (default: a TLS handshake, peer-cert.ts). */
  peerCertificate?: (host: string, port: number) => Promise<number | Error>;
}

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown>; data?: Record<string, string> };

async function getOrUndefined(registry: Registry, info: typeof NODES, ns: string | undefined, name: string): Promise<Obj | undefined> {
  try {
    return await registry.get(info, ns, name) as Obj;
  } catch (e) {
    if (isTriremeError(e, 'NotFound')) return undefined;
    throw e;
  }
}

function observeNode(n: Obj): ObservedNode {
  const conditions = ((n.status?.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[])
    .map((c) => ({ type: c.type, status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) }));
  const known = n.metadata?.annotations?.[API_SERVERS_ANNOTATION];
  return {
    name: n.metadata?.name ?? '', conditions,
    ...(known !== undefined ? { knownServers: known.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
  };
}

function observeWorkload(kind: ObservedWorkload['kind'], w: Obj, pods: readonly Obj[]): ObservedWorkload {
  const ns = w.metadata?.namespace ?? 'default';
  // The API validated the selector on admission: a throw here is a bug, surfaced as a 500.
  const sel = labelSelectorFromObject(w.spec?.selector);
  const podNodes = pods
    .filter((p) => p.metadata?.namespace === ns && !p.metadata?.deletionTimestamp && matchesLabels(sel, p.metadata?.labels))
    .map((p) => p.spec?.nodeName)
    .filter((n): n is string => typeof n === 'string' && n !== '');
  const replicas = typeof w.spec?.replicas === 'number' ? w.spec.replicas : 1;
  return { kind, namespace: ns, name: w.metadata?.name ?? '', replicas, podNodes };
}

function observeLease(name: string, l: Obj | undefined): ObservedLease {
  const spec = (l?.spec ?? {}) as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
  const renew = parseKubeTime(spec.renewTime);
  return {
    name, ...(spec.holderIdentity ? { holder: spec.holderIdentity } : {}), ...(renew !== undefined ? { renewTime: renew } : {}),
    ...(spec.leaseDurationSeconds !== undefined ? { durationSeconds: spec.leaseDurationSeconds } : {}),
    ...(spec.leaseTransitions !== undefined ? { transitions: spec.leaseTransitions } : {}),
  };
}

function observeElection(e: Obj): ObservedElection | undefined {
  const ev = e as Obj & { involvedObject?: { kind?: string; name?: string }; reason?: string; message?: string; count?: number; firstTimestamp?: string; lastTimestamp?: string; eventTime?: string };
  if (ev.reason !== 'LeaderElection' || ev.involvedObject?.kind !== 'Lease' || !ev.involvedObject.name) return undefined;
  const first = parseKubeTime(ev.firstTimestamp) ?? parseKubeTime(ev.eventTime);
  const last = parseKubeTime(ev.lastTimestamp) ?? first;
  if (first === undefined || last === undefined) return undefined;
  return { lease: ev.involvedObject.name, identity: (ev.message ?? '').replace(/ became leader$/, ''), first, last, count: ev.count ?? 1 };
}

/** The records of kube-system/trireme-snapshots: one data key per snapshot, a JSON line each. */
export function snapshotRecords(cm: Obj): ObservedSnapshot[] {
  const out: ObservedSnapshot[] = [];
  for (const [key, v] of Object.entries(cm.data ?? {})) {
    let r: { name?: unknown; server?: unknown; created?: unknown };
    try {
      r = JSON.parse(v) as typeof r;
    } catch {
      continue;
    }
    const created = typeof r.created === 'string' ? parseKubeTime(r.created) : undefined;
    if (typeof r.server !== 'string' || created === undefined) continue;
    out.push({ name: typeof r.name === 'string' ? r.name : key, server: r.server, created });
  }
  return out.sort((a, b) => a.created - b.created);
}

function splitHostPort(address: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

export async function gatherObservation(d: GatherDeps): Promise<Observation> {
  const { registry } = d;
  const peer = d.peerCertificate ?? ((h: string, p: number) => peerCertificateExpiry(h, p));
  const [status, nodes, pods, deployments, statefulsets, events, records, ...leases] = await Promise.all([
    d.clusterStatus(),
    registry.list(NODES, undefined).then((a) => a.items as Obj[]),
    registry.list(PODS, undefined).then((a) => a.items as Obj[]),
    registry.list(DEPLOYMENTS, undefined).then((a) => a.items as Obj[]),
    registry.list(STATEFULSETS, undefined).then((a) => a.items as Obj[]),
    registry.list(EVENTS, SYSTEM_NAMESPACE).then((a) => a.items as Obj[]),
    getOrUndefined(registry, CONFIGMAPS, SYSTEM_NAMESPACE, SNAPSHOT_RECORDS),
    ...LEADER_LEASES.map((n) => getOrUndefined(registry, LEASES, SYSTEM_NAMESPACE, n)),
  ]);

  const workloads = [
    ...deployments.map((w) => observeWorkload('Deployment', w, pods)),
    ...statefulsets.map((w) => observeWorkload('StatefulSet', w, pods)),
  ];
  const dns = workloads.find((w) => w.kind === 'Deployment' && w.namespace === SYSTEM_NAMESPACE && w.name === DNS_DEPLOYMENT);

  const certificates: ObservedCertificate[] = [{ kind: 'ca', subject: 'cluster CA', notAfter: Date.parse(new X509Certificate(d.caPem).validTo) }];
  const probes: Promise<void>[] = [];
  const probe = (kind: ObservedCertificate['kind'], subject: string, host: string, port: number): void => {
    probes.push(peer(host, port).then((v) => {
      if (!(v instanceof Error)) certificates.push({ kind, subject, notAfter: v });
    }));
  };
  for (const s of status.servers) {
    const hp = splitHostPort(s.address);
    if (hp) probe('apiserver', `API server ${s.address} serving certificate`, hp.host, hp.port);
  }
  for (const n of nodes) {
    const where = kubeletAddress(n);
    if (where) probe('kubelet', `node ${n.metadata?.name} agent serving certificate`, where.host, where.port);
  }
  await Promise.all(probes);
  certificates.sort((a, b) => a.subject.localeCompare(b.subject));

  return {
    servers: status.servers.map((s) => s.address),
    store: status.store,
    leases: LEADER_LEASES.map((n, i) => observeLease(n, leases[i])),
    elections: events.map(observeElection).filter((e): e is ObservedElection => e !== undefined),
    nodes: nodes.map(observeNode),
    workloads,
    ...(dns ? { dns } : {}),
    ...(records ? { snapshots: snapshotRecords(records) } : {}),
    certificates,
  };
}
