// Which API servers the `default/kubernetes` Endpoints lists (pure), from the per-server Leases
// in kube-system as THIS server observed them — Kubernetes' lease endpoint reconciler, judged by
// observation time as the node lifecycle controller judges node heartbeats.
// Guarantees:
// - Liveness is measured on this server's clock only: a lease is live while
//   `now - observedAt <= ttlMs`, `observedAt` being when this server last saw the lease's
//   resourceVersion change. The renewTime inside a lease (another machine's clock) is never
//   compared with it.
// - A lease found at this server's first look (unchanged since) may belong to a server that is
//   long dead: it keeps an address that is listed already (for a full ttl, the grace a
//   restarted observer gives), but adds none. Addresses are added only for leases seen changing.
// - Hysteresis: an address is kept while its lease changed within ttl, but added only while it
//   changed within ttl/2. Servers observe a renewal a little apart; without it, a peer that saw
//   a dead server's last renewal later would write it back just after another dropped it.
//   A live server renews every second or two, so it is added within one renewal.
// - Subsets are grouped by port, sorted by port, addresses sorted and unique within a subset, so
//   servers on different ports are valid Endpoints and equal inputs give equal output.
// Does not: read or write anything; confirm that a lease still exists in the store (the caller
// does, before it adds an address); remove this server's own lease (the caller stops renewing it
// or deletes it).
import type { Lease } from 'kubernetes-types/coordination/v1.js';

/** Label that marks an API server's endpoint lease (kube-system); annotations carry the address. */
export const ENDPOINT_LEASE_LABEL = 'trireme.io/apiserver-endpoint';
export const ADDRESS_ANNOTATION = 'trireme.io/apiserver-address';
export const PORT_ANNOTATION = 'trireme.io/apiserver-port';
/** Name of the one port of each subset of `default/kubernetes` (as in Kubernetes). */
export const ENDPOINT_PORT_NAME = 'https';

export interface ServerAddress {
  ip: string;
  port: number;
}

/** One lease as observed: which server it names and when this server last saw it change. */
export interface ObservedLease extends ServerAddress {
  name: string;
  resourceVersion: string;
  /** This server's clock (ms) when it last saw the lease's resourceVersion change. */
  observedAt: number;
  /** Seen changing since this server began observing (false: found as it is at the first look). */
  changed: boolean;
}

/** A server to plan with: an observed lease, and whether its address is in the Endpoints now. */
export interface PlanInput extends ServerAddress {
  observedAt: number;
  changed: boolean;
  listed: boolean;
}

export interface EndpointSubset {
  addresses: { ip: string }[];
  ports: { name: string; port: number; protocol: 'TCP' }[];
}

/** The name of a server's endpoint lease: `trireme-apiserver-<ip>-<port>` (dots, colons → dashes). */
export function endpointLeaseName(server: ServerAddress): string {
  return `trireme-apiserver-${server.ip.toLowerCase().replace(/[.:]/g, '-')}-${server.port}`;
}

/** The server an endpoint lease names, or undefined for a lease that is not one (or is malformed). */
export function leaseServer(lease: Lease): ServerAddress | undefined {
  const meta = lease.metadata;
  if (meta?.labels?.[ENDPOINT_LEASE_LABEL] === undefined) return undefined;
  const ip = meta.annotations?.[ADDRESS_ANNOTATION];
  const port = Number(meta.annotations?.[PORT_ANNOTATION]);
  if (!ip || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { ip, port };
}

/**
 * The observations after a look at the current endpoint leases: an unchanged lease keeps its
 * observation time, a new or changed one is observed `now`, a vanished one is forgotten.
 * `first`: this is the first look, so nothing seen counts as a change.
 */
export function observeLeases(prev: ReadonlyMap<string, ObservedLease>, leases: readonly Lease[], now: number, first: boolean): Map<string, ObservedLease> {
  const next = new Map<string, ObservedLease>();
  for (const lease of leases) {
    const server = leaseServer(lease);
    const name = lease.metadata?.name;
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (!server || !name) continue;
    const old = prev.get(name);
    if (old && old.resourceVersion === resourceVersion) next.set(name, { ...old, ...server });
    else next.set(name, { name, ...server, resourceVersion, observedAt: now, changed: !first || old !== undefined });
  }
  return next;
}

/** Whether the server counts as live now (see the header). */
export function isLive(s: PlanInput, now: number, ttlMs: number): boolean {
  const age = now - s.observedAt;
  return s.listed ? age <= ttlMs : s.changed && age <= ttlMs / 2;
}

/** The Endpoints subsets for the live servers. */
export function planEndpoints(observed: readonly PlanInput[], now: number, ttlMs: number): EndpointSubset[] {
  const byPort = new Map<number, Set<string>>();
  for (const s of observed) {
    if (!isLive(s, now, ttlMs)) continue;
    let ips = byPort.get(s.port);
    if (!ips) byPort.set(s.port, (ips = new Set()));
    ips.add(s.ip);
  }
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, ips]) => ({
      addresses: [...ips].sort().map((ip) => ({ ip })),
      ports: [{ name: ENDPOINT_PORT_NAME, port, protocol: 'TCP' as const }],
    }));
}

/** The servers an Endpoints object lists now ("ip:port" keys). */
export function listedServers(subsets: readonly { addresses?: readonly { ip?: string }[] | null; ports?: readonly { port?: number }[] | null }[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const subset of subsets ?? []) {
    for (const a of subset.addresses ?? []) {
      for (const p of subset.ports ?? []) if (a.ip && p.port) out.add(serverKey({ ip: a.ip, port: p.port }));
    }
  }
  return out;
}

export function serverKey(s: ServerAddress): string {
  return `${s.ip}:${s.port}`;
}
