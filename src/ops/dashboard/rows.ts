// The dashboard's data shaping: API objects and the cluster status in, table rows out, plus the
// object cache a list + watch keeps. Served to the browser as an ES module (/dashboard/rows.js)
// and unit-tested in node, so it must stay free of runtime imports (type imports are erased)
// and of I/O: every function is pure except applyWatchEvent, which updates the cache it is
// handed and nothing else.
// Guarantees: every object and member given yields a row (none is dropped for missing fields;
// an unknown value is undefined or '-'); rows come sorted in a stable order. Does not: fetch,
// render, or judge anything beyond what the objects themselves say.
import type { ClusterStatus, StoreMemberStatus } from '../../api/cluster-status.js';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import type { DaemonSet, Deployment, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';

export interface ObjectLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export type Cache<T extends ObjectLike> = Map<string, T>;

export interface WatchEvent {
  type: string;
  object?: unknown;
}

/** What one watch event meant for the cache and the stream. */
export type WatchStep =
  | { kind: 'changed'; resourceVersion: string | undefined }
  | { kind: 'bookmark'; resourceVersion: string | undefined }
  /** 410: the resourceVersion is too old; list again. */
  | { kind: 'expired' }
  | { kind: 'error'; message: string };

export function objectKey(o: ObjectLike): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export function cacheFromList<T extends ObjectLike>(items: readonly T[]): Cache<T> {
  return new Map(items.map((o) => [objectKey(o), o]));
}

/** Applies one watch event to `cache`; says whether to go on, resume, or list again. */
export function applyWatchEvent<T extends ObjectLike>(cache: Cache<T>, ev: WatchEvent): WatchStep {
  const obj = ev.object as T | undefined;
  const rv = obj?.metadata?.resourceVersion;
  switch (ev.type) {
    case 'ADDED':
    case 'MODIFIED':
      if (obj) cache.set(objectKey(obj), obj);
      return { kind: 'changed', resourceVersion: rv };
    case 'DELETED':
      if (obj) cache.delete(objectKey(obj));
      return { kind: 'changed', resourceVersion: rv };
    case 'BOOKMARK':
      return { kind: 'bookmark', resourceVersion: rv };
    case 'ERROR': {
      const status = ev.object as { code?: number; message?: string } | undefined;
      if (status?.code === 410) return { kind: 'expired' };
      return { kind: 'error', message: status?.message ?? 'watch error' };
    }
    default:
      return { kind: 'error', message: `unknown watch event type ${JSON.stringify(ev.type)}` };
  }
}

/** `45s`, `3m`, `2h`, `4d`, like kubectl's AGE; '-' when unknown. */
export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function ageSeconds(time: string | undefined, nowMs: number): number | undefined {
  if (!time) return undefined;
  const t = Date.parse(time);
  return Number.isNaN(t) ? undefined : (nowMs - t) / 1000;
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const m = /^[a-z]+:\/\/(\[[^\]]+\]|[^:/]+)/i.exec(url);
  return m?.[1];
}

function hostOfAddress(address: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)/.exec(address);
  return m?.[1] ?? address;
}

export type ServerState = 'up' | 'down' | 'degraded';

export interface ServerRow {
  name: string;
  /** The API address in `default/kubernetes`, when this server is there. */
  api: string | undefined;
  state: ServerState;
  /** leader, follower, learner; or the store backend for a server without a managed member. */
  storeRole: string;
  raftIndex: number | undefined;
  lag: number | undefined;
  /** Names of the leader Leases this server's components hold. */
  leads: string[];
  /** Why the row is not up, when known. */
  detail: string | undefined;
}

function role(m: StoreMemberStatus): string {
  return m.isLearner ? 'learner' : m.isLeader ? 'leader' : 'follower';
}

/** The holder identity's node part (`<node>_<random>`, src/cli/leading.ts). */
export function holderNode(holder: string | undefined): string | undefined {
  if (!holder) return undefined;
  const i = holder.indexOf('_');
  return i > 0 ? holder.slice(0, i) : holder;
}

/**
 * One row per store member (matched to its API address by host), then one per API address no
 * member matched. A member is up when it is healthy and its API server is published, down
 * when unhealthy, degraded when healthy but its API server is not published.
 */
export function serverRows(s: ClusterStatus): ServerRow[] {
  const rows: ServerRow[] = [];
  const used = new Set<string>();
  const members = [...s.store.members].sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));
  for (const m of members) {
    const host = hostOf(m.clientUrls[0] ?? m.peerUrls[0]);
    const api = s.servers.find((v) => !used.has(v.address) && host !== undefined && hostOfAddress(v.address) === host)?.address;
    if (api) used.add(api);
    const state: ServerState = !m.healthy ? 'down' : api ? 'up' : 'degraded';
    const detail = !m.healthy ? (m.error ?? 'store member unhealthy') : api ? undefined : 'API server not published in default/kubernetes';
    rows.push({ name: m.name || `(unstarted ${m.id})`, api, state, storeRole: role(m), raftIndex: m.raftIndex, lag: m.lag, leads: [], detail });
  }
  for (const v of [...s.servers].sort((a, b) => a.address.localeCompare(b.address))) {
    if (used.has(v.address)) continue;
    rows.push({ name: v.address, api: v.address, state: 'up', storeRole: s.store.members.length > 0 ? '-' : s.store.backend, raftIndex: undefined, lag: undefined, leads: [], detail: undefined });
  }
  for (const l of s.leases) {
    const node = holderNode(l.holder);
    const row = rows.find((r) => r.name === node);
    if (row) row.leads.push(l.name);
  }
  return rows;
}

export interface LeaseRow {
  name: string;
  holder: string | undefined;
  /** The server (node) part of the holder identity. */
  holderServer: string | undefined;
  renewedAgeSeconds: number | undefined;
  transitions: number | undefined;
}

export function leaseRows(s: ClusterStatus, nowMs: number): LeaseRow[] {
  return s.leases.map((l) => ({ name: l.name, holder: l.holder, holderServer: holderNode(l.holder), renewedAgeSeconds: ageSeconds(l.renewTime, nowMs), transitions: l.transitions }));
}

/** The store member that leads, if any answered. */
export function storeLeader(s: ClusterStatus): string | undefined {
  const m = s.store.members.find((x) => x.isLeader);
  return m ? m.name || m.id : undefined;
}

export interface NodeRow {
  name: string;
  /** The Ready condition's status: True, False or Unknown ('Unknown' when it has none). */
  ready: string;
  /** Since the node's Lease in kube-node-lease was renewed, else its Ready heartbeat. */
  heartbeatAgeSeconds: number | undefined;
  /** Conditions other than Ready that are True (pressure, network unavailable): problems. */
  problems: string[];
  schedulable: boolean;
  taints: string[];
}

export function nodeRows(nodes: readonly Node[], leases: readonly Lease[], nowMs: number): NodeRow[] {
  const renewed = new Map(leases.map((l) => [l.metadata?.name ?? '', l.spec?.renewTime]));
  return [...nodes].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).map((n) => {
    const name = n.metadata?.name ?? '';
    const conditions = n.status?.conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready');
    return {
      name,
      ready: ready?.status ?? 'Unknown',
      heartbeatAgeSeconds: ageSeconds(renewed.get(name) ?? ready?.lastHeartbeatTime, nowMs),
      problems: conditions.filter((c) => c.type !== 'Ready' && c.status === 'True').map((c) => c.type).sort(),
      schedulable: n.spec?.unschedulable !== true,
      taints: (n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
    };
  });
}

export interface WorkloadRow {
  kind: 'Deployment' | 'DaemonSet' | 'StatefulSet';
  namespace: string;
  name: string;
  ready: number;
  desired: number;
  /** Every desired replica is ready. */
  ok: boolean;
}

export function workloadRows(deployments: readonly Deployment[], daemonSets: readonly DaemonSet[], statefulSets: readonly StatefulSet[]): WorkloadRow[] {
  const row = (kind: WorkloadRow['kind'], o: ObjectLike, ready: number | undefined, desired: number | undefined): WorkloadRow => {
    const r = ready ?? 0;
    const d = desired ?? 0;
    return { kind, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', ready: r, desired: d, ok: r >= d };
  };
  const rows = [
    ...deployments.map((d) => row('Deployment', d, d.status?.readyReplicas, d.spec?.replicas ?? 1)),
    ...daemonSets.map((d) => row('DaemonSet', d, d.status?.numberReady, d.status?.desiredNumberScheduled)),
    ...statefulSets.map((s) => row('StatefulSet', s, s.status?.readyReplicas, s.spec?.replicas ?? 1)),
  ];
  return rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

export interface WarningRow {
  namespace: string;
  /** `Kind/name` of the object the event is about. */
  object: string;
  reason: string;
  message: string;
  count: number;
  lastSeenAgeSeconds: number | undefined;
}

function eventTime(e: Event): string | undefined {
  return e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
}

/** The `limit` most recent Warning events, newest first. */
export function warningRows(events: readonly Event[], nowMs: number, limit = 25): WarningRow[] {
  return events
    .filter((e) => e.type === 'Warning')
    .map((e) => ({ e, t: Date.parse(eventTime(e) ?? '') }))
    .sort((a, b) => (Number.isNaN(b.t) ? -Infinity : b.t) - (Number.isNaN(a.t) ? -Infinity : a.t))
    .slice(0, limit)
    .map(({ e }) => ({
      namespace: e.metadata?.namespace ?? '',
      object: `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`,
      reason: e.reason ?? '',
      message: e.message ?? '',
      count: e.series?.count ?? e.count ?? 1,
      lastSeenAgeSeconds: ageSeconds(eventTime(e), nowMs),
    }));
}

export interface DoctorFinding {
  id: string;
  severity: string;
  subject: string;
  message: string;
  fix: string;
}

export type DoctorView =
  | { state: 'findings'; findings: DoctorFinding[] }
  /** The server has no doctor route (404): not an error. */
  | { state: 'unavailable' }
  | { state: 'error'; message: string };

const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];

/** What GET /trireme/v1/cluster/doctor answered, as the dashboard shows it. */
export function doctorView(code: number, body: unknown): DoctorView {
  if (code === 404) return { state: 'unavailable' };
  if (code !== 200) return { state: 'error', message: (body as { message?: string } | undefined)?.message ?? `HTTP ${code}` };
  const raw = (body as { findings?: unknown } | undefined)?.findings;
  if (!Array.isArray(raw)) return { state: 'error', message: 'the doctor answered without a findings list' };
  const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : String(v));
  const findings = raw.map((f: Record<string, unknown>) => ({ id: str(f.id), severity: str(f.severity), subject: str(f.subject), message: str(f.message), fix: str(f.fix) }));
  const rank = (s: string): number => {
    const i = SEVERITY_ORDER.indexOf(s.toLowerCase());
    return i < 0 ? SEVERITY_ORDER.length : i;
  };
  findings.sort((a, b) => rank(a.severity) - rank(b.severity) || a.subject.localeCompare(b.subject) || a.id.localeCompare(b.id));
  return { state: 'findings', findings };
}
