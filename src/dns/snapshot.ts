// The cluster's DNS data at one moment, computed from Services, Endpoints and Pods: which names
// exist under the cluster zone and what records each holds, plus the reverse (IP → names) map.
// Names are relative to the zone (`web.default.svc`; '' is the apex) and lower case, so one
// snapshot serves any `--cluster-domain`; src/dns/answer.ts turns it into DNS answers.
// Guarantees: pure; every owner name's ancestors are in `names` (empty non-terminals exist, so
// `default.svc` is NODATA, not NXDOMAIN, while a Service lives in `default`); duplicate records
// (two pods on one node share the node's IP on the process runtime) are kept once.
// Records, as the Kubernetes DNS specification has them:
//   <svc>.<ns>.svc                A ClusterIP; headless: one A per ready address
//   _<port>._<proto>.<svc>.<ns>.svc  SRV per named port (ClusterIP: the Service port, target the
//                                 Service; headless: each ready address with its endpoint port,
//                                 target <host>.<svc>.<ns>.svc); the same SRVs at <svc>.<ns>.svc
//   <host>.<svc>.<ns>.svc         headless: A of the address whose hostname (or dashed IP) is host
//   <svc>.<ns>.svc (ExternalName)  CNAME to spec.externalName
//   <a-b-c-d>.<ns>.pod            A of a pod that has that IP in that namespace ("pods verified")
//   reverse                       ClusterIP → the Service; endpoint address → <host>.<svc>.<ns>.svc;
//                                 pod IP → <a-b-c-d>.<ns>.pod
// Does not: IPv6 (AAAA is answered NODATA by answer.ts), wildcard queries, EndpointSlices
// (Endpoints hold the same addresses here), not-ready addresses (the Endpoints controller moves
// them to `addresses` when a Service has publishNotReadyAddresses).
import type { EndpointAddress, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';

export type ZoneRecord =
  | { type: 'A'; ip: string }
  /** `target` is relative to the zone. */
  | { type: 'SRV'; port: number; priority: number; weight: number; target: string }
  /** `target` is absolute (an ExternalName), without a trailing dot. */
  | { type: 'CNAME'; target: string };

export interface DnsSnapshot {
  /** Every name that exists, relative to the zone ('' = the apex). */
  names: ReadonlySet<string>;
  records: ReadonlyMap<string, readonly ZoneRecord[]>;
  /** IPv4 address → relative names that point back to it (PTR). */
  reverse: ReadonlyMap<string, readonly string[]>;
  /** SOA serial: grows with every rebuild. */
  serial: number;
}

export interface ClusterObjects {
  services: readonly Service[];
  endpoints: readonly Endpoints[];
  pods: readonly Pod[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isIpv4(ip: string | undefined): ip is string {
  const m = ip === undefined ? null : IPV4.exec(ip);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** `10.0.0.1` → `10-0-0-1`, the label Kubernetes DNS uses for an address. */
export function dashed(ip: string): string {
  return ip.replaceAll('.', '-');
}

class Builder {
  readonly names = new Set<string>(['', 'svc', 'pod']);
  readonly records = new Map<string, ZoneRecord[]>();
  readonly reverse = new Map<string, string[]>();

  add(name: string, rec: ZoneRecord): void {
    const list = this.records.get(name) ?? [];
    if (!list.some((r) => sameRecord(r, rec))) list.push(rec);
    this.records.set(name, list);
    for (let n = name; n !== ''; n = n.includes('.') ? n.slice(n.indexOf('.') + 1) : '') this.names.add(n);
  }

  ptr(ip: string, name: string): void {
    const list = this.reverse.get(ip) ?? [];
    if (!list.includes(name)) list.push(name);
    this.reverse.set(ip, list);
  }
}

function sameRecord(a: ZoneRecord, b: ZoneRecord): boolean {
  if (a.type === 'A' && b.type === 'A') return a.ip === b.ip;
  if (a.type === 'CNAME' && b.type === 'CNAME') return a.target === b.target;
  if (a.type === 'SRV' && b.type === 'SRV') return a.port === b.port && a.target === b.target;
  return false;
}

const key = (ns: string | undefined, name: string | undefined): string => `${ns ?? ''}/${name ?? ''}`;

/** The label of an endpoint address: its hostname if it is a DNS label, else the pod's own, else the dashed IP. */
function hostLabel(addr: EndpointAddress, svcName: string, pods: ReadonlyMap<string, Pod>): string {
  const own = addr.hostname?.toLowerCase();
  if (own && DNS_LABEL.test(own)) return own;
  const ref = addr.targetRef;
  if (ref?.kind === 'Pod' && ref.name) {
    const pod = pods.get(key(ref.namespace, ref.name));
    const h = pod?.spec?.hostname?.toLowerCase();
    if (h && DNS_LABEL.test(h) && pod?.spec?.subdomain === svcName) return h;
  }
  return dashed(addr.ip);
}

export function buildSnapshot(objs: ClusterObjects, serial: number): DnsSnapshot {
  const b = new Builder();
  const endpoints = new Map(objs.endpoints.map((e) => [key(e.metadata?.namespace, e.metadata?.name), e] as const));
  const pods = new Map(objs.pods.map((p) => [key(p.metadata?.namespace, p.metadata?.name), p] as const));

  for (const svc of objs.services) {
    const ns = svc.metadata?.namespace;
    const name = svc.metadata?.name;
    if (!ns || !name) continue;
    const rel = `${name}.${ns}.svc`.toLowerCase();
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') {
      const target = spec.externalName?.toLowerCase().replace(/\.$/, '');
      if (target) b.add(rel, { type: 'CNAME', target });
      continue;
    }
    if (spec.clusterIP === 'None') {
      addHeadless(b, rel, name, endpoints.get(key(ns, name)), pods);
      continue;
    }
    const ips = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter(isIpv4);
    if (ips.length === 0) continue; // no address yet: the name does not exist until it has one
    for (const ip of ips) {
      b.add(rel, { type: 'A', ip });
      b.ptr(ip, rel);
    }
    for (const p of spec.ports ?? []) {
      if (!p.name) continue;
      const srv: ZoneRecord = { type: 'SRV', port: p.port, priority: 0, weight: 100, target: rel };
      b.add(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${rel}`.toLowerCase(), srv);
      b.add(rel, srv);
    }
  }

  for (const pod of objs.pods) {
    const ns = pod.metadata?.namespace;
    const ip = pod.status?.podIP;
    const phase = pod.status?.phase;
    if (!ns || !isIpv4(ip) || phase === 'Succeeded' || phase === 'Failed') continue;
    const rel = `${dashed(ip)}.${ns}.pod`.toLowerCase();
    b.add(rel, { type: 'A', ip });
    b.ptr(ip, rel);
  }
  return { names: b.names, records: b.records, reverse: b.reverse, serial };
}

function addHeadless(b: Builder, rel: string, svcName: string, ep: Endpoints | undefined, pods: ReadonlyMap<string, Pod>): void {
  for (const subset of ep?.subsets ?? []) {
    for (const addr of subset.addresses ?? []) {
      if (!isIpv4(addr.ip)) continue;
      const host = `${hostLabel(addr, svcName, pods)}.${rel}`;
      b.add(rel, { type: 'A', ip: addr.ip });
      b.add(host, { type: 'A', ip: addr.ip });
      b.ptr(addr.ip, host);
      for (const p of subset.ports ?? []) {
        if (!p.name) continue;
        const srv: ZoneRecord = { type: 'SRV', port: p.port, priority: 0, weight: 100, target: host };
        b.add(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${rel}`.toLowerCase(), srv);
        b.add(rel, srv);
      }
    }
  }
}
