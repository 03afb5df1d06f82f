// What the cluster DNS answers to one question, decided from a snapshot (src/dns/snapshot.ts).
// Guarantees: pure. Names match case-insensitively, with or without the trailing dot; answers
// carry the question's own spelling as owner name. Search-path friendly, as resolvers need with
// `search <ns>.svc.<zone> svc.<zone> <zone>`: a name under the zone that does not exist is
// NXDOMAIN (the resolver tries the next suffix), a name that exists without records of the asked
// type is NODATA (NOERROR, no answer, the zone's SOA in authority, so it is cached negatively for
// the SOA minimum = the TTL). Only IPv4 exists: AAAA is always NODATA for names that exist.
// SRV answers carry the A records of their in-zone targets as additionals. An ExternalName's
// CNAME is answered, and its target is either chased in the zone or handed to the caller to
// resolve upstream ('chase'). Reverse names (in-addr.arpa) known from the snapshot get PTRs;
// unknown ones inside the Service range are NXDOMAIN, other unknown ones go upstream; every name
// outside the zone and the reverse tree goes upstream ('forward').
// Does not: NS records, zone transfers, DNSSEC, wildcard queries; any class but IN (REFUSED in
// the zone).
import type { Answer as Rr, Question } from 'dns-packet';
import { offsetOf, type ServiceRange } from '../api/service-range.js';
import { isIpv4, type DnsSnapshot } from './snapshot.js';

export interface ZoneConfig {
  /** The cluster domain, e.g. `cluster.local` (no trailing dot). */
  domain: string;
  /** TTL of every record, and the SOA minimum (negative caching). */
  ttl: number;
  /** The Service range: unknown reverse names inside it are NXDOMAIN instead of forwarded. */
  serviceRange?: ServiceRange;
}

export interface Reply {
  kind: 'reply';
  rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED';
  authoritative: boolean;
  answers: Rr[];
  authorities: Rr[];
  additionals: Rr[];
}

/** Answer with `answers` first, then what upstream says about `name`/`type` (an ExternalName target). */
export interface Chase {
  kind: 'chase';
  answers: Rr[];
  name: string;
  type: Question['type'];
}

export type Decision = Reply | Chase | { kind: 'forward' };

const MAX_CNAME_CHAIN = 8;

/** dns-packet decodes type 255 as 'ANY', though its typings do not list it. */
const isAny = (type: string): boolean => type === 'ANY';

export function normalizeName(name: string): string {
  return name.replace(/\.+$/, '').toLowerCase();
}

/** The name relative to the zone ('' for the apex), or undefined when it is outside. */
function relative(lname: string, domain: string): string | undefined {
  if (lname === domain) return '';
  return lname.endsWith(`.${domain}`) ? lname.slice(0, -domain.length - 1) : undefined;
}

function absolute(rel: string, domain: string): string {
  return rel === '' ? domain : `${rel}.${domain}`;
}

export function soaRecord(owner: string, zone: ZoneConfig, serial: number): Rr {
  return {
    name: owner, type: 'SOA', ttl: zone.ttl, class: 'IN',
    data: { mname: `ns.dns.${zone.domain}`, rname: `hostmaster.${zone.domain}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: zone.ttl },
  };
}

function reply(rcode: Reply['rcode'], answers: Rr[], authorities: Rr[] = [], additionals: Rr[] = []): Reply {
  return { kind: 'reply', rcode, authoritative: rcode !== 'REFUSED', answers, authorities, additionals };
}

export function answer(q: Question, snap: DnsSnapshot, zone: ZoneConfig): Decision {
  const domain = normalizeName(zone.domain);
  const owner = q.name.replace(/\.+$/, '');
  const lname = owner.toLowerCase();
  const rel = relative(lname, domain);
  const inReverse = lname === 'in-addr.arpa' || lname.endsWith('.in-addr.arpa');
  if (rel === undefined && !inReverse) return { kind: 'forward' };
  if ((q.class ?? 'IN') !== 'IN') return reply('REFUSED', []);
  const z = { ...zone, domain };
  return rel !== undefined ? zoneAnswer(owner, rel, q.type, snap, z, 0) : reverseAnswer(owner, lname, q.type, snap, z);
}

function zoneAnswer(owner: string, rel: string, type: Question['type'], snap: DnsSnapshot, zone: ZoneConfig, depth: number): Decision {
  const soa = [soaRecord(zone.domain, zone, snap.serial)];
  if (!snap.names.has(rel)) return reply('NXDOMAIN', [], soa);
  const records = snap.records.get(rel) ?? [];
  const any = isAny(type);
  const out: Rr[] = [];
  const extra: Rr[] = [];
  if (rel === '' && (type === 'SOA' || any)) out.push(soaRecord(owner, zone, snap.serial));

  const cname = records.find((r) => r.type === 'CNAME');
  if (cname?.type === 'CNAME') {
    const rr: Rr = { name: owner, type: 'CNAME', ttl: zone.ttl, class: 'IN', data: cname.target };
    if (type === 'CNAME' || any) return reply('NOERROR', [rr]);
    const targetRel = relative(cname.target, zone.domain);
    if (targetRel === undefined) return { kind: 'chase', answers: [rr], name: cname.target, type };
    if (depth >= MAX_CNAME_CHAIN) return reply('NOERROR', [rr]);
    const next = zoneAnswer(cname.target, targetRel, type, snap, zone, depth + 1);
    return next.kind === 'forward' ? next : { ...next, answers: [rr, ...next.answers] };
  }

  for (const r of records) {
    if (r.type === 'A' && (type === 'A' || any)) out.push({ name: owner, type: 'A', ttl: zone.ttl, class: 'IN', data: r.ip });
    if (r.type === 'SRV' && (type === 'SRV' || any)) {
      const target = absolute(r.target, zone.domain);
      out.push({ name: owner, type: 'SRV', ttl: zone.ttl, class: 'IN', data: { priority: r.priority, weight: r.weight, port: r.port, target } });
      for (const t of snap.records.get(r.target) ?? []) {
        if (t.type !== 'A') continue;
        if (!extra.some((e) => e.name === target && e.type === 'A' && e.data === t.ip)) extra.push({ name: target, type: 'A', ttl: zone.ttl, class: 'IN', data: t.ip });
      }
    }
  }
  // NODATA: the name exists, nothing of this type (AAAA always: IPv4 only).
  if (out.length === 0) return reply('NOERROR', [], soa);
  return reply('NOERROR', out, [], extra);
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`; undefined for partial or malformed names. */
export function reverseIp(lname: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(lname);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return isIpv4(ip) ? ip : undefined;
}

function reverseAnswer(owner: string, lname: string, type: Question['type'], snap: DnsSnapshot, zone: ZoneConfig): Decision {
  const ip = reverseIp(lname);
  const names = ip === undefined ? undefined : snap.reverse.get(ip);
  const soa = [soaRecord('in-addr.arpa', zone, snap.serial)];
  if (!names || names.length === 0) {
    const ours = ip !== undefined && zone.serviceRange !== undefined && offsetOf(zone.serviceRange, ip) !== undefined;
    return ours ? reply('NXDOMAIN', [], soa) : { kind: 'forward' };
  }
  if (type !== 'PTR' && !isAny(type)) return reply('NOERROR', [], soa);
  return reply('NOERROR', names.map((n) => ({ name: owner, type: 'PTR', ttl: zone.ttl, class: 'IN', data: absolute(n, zone.domain) })));
}
