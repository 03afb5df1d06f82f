// Parsing and validation of what an operator hands the balancer and the config printers: a
// listen address (HOST:PORT), API server URLs, a VIP in CIDR notation, an interface name,
// VRRP priority and router id, peer addresses. Pure functions.
// Guarantees: each parser returns a normalised value or throws TriremeError('Invalid') with one
// line naming the bad value and what was expected; nothing is resolved over the network.
// Does not: check that an address exists on this machine, or accept host names for VIPs/peers
// (VRRP needs literal addresses); IPv6 VIPs are refused (one IPv4 vrrp_instance is printed).
import { isIP, isIPv4 } from 'node:net';
import { TriremeError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** A backend API server: where to connect, and the name configs and logs call it. */
export interface BackendAddress extends HostPort {
  name: string;
  /** The URL as given (normalised: no path), for health checks. */
  url: string;
}

function invalid(msg: string): never {
  throw new TriremeError('Invalid', msg);
}

function parsePort(v: string, what: string, allowZero: boolean): number {
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n > 65535 || (!allowZero && n === 0)) invalid(`${what}: not a port number: ${v}`);
  return n;
}

/** `HOST:PORT` or `[IPv6]:PORT`; port 0 lets the OS choose (the ready file says which). */
export function parseListen(v: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:[\]]+):(\d+)$/.exec(v);
  if (!m) invalid(`--listen: expected HOST:PORT (like 10.0.0.100:6443), not ${JSON.stringify(v)}`);
  const host = m[1]!;
  if (isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host)) invalid(`--listen: not a host name or IP address: ${host}`);
  return { host, port: parsePort(m[2]!, '--listen', true) };
}

/** An API server URL `https://host[:port]` (443 when no port, as URLs mean). */
export function parseServerUrl(v: string, index: number): BackendAddress {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return invalid(`--server: not a URL: ${JSON.stringify(v)}`);
  }
  if (u.protocol !== 'https:') invalid(`--server: the API is HTTPS, expected https://HOST:PORT, not ${v}`);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.username !== '') invalid(`--server: expected https://HOST:PORT without path or credentials, not ${v}`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? 443 : Number(u.port);
  return { name: `api${index + 1}`, host, port, url: `https://${u.host}` };
}

export function parseServerUrls(list: readonly string[]): BackendAddress[] {
  if (list.length === 0) invalid('--server: at least one API server URL is needed');
  const out = list.map((v, i) => parseServerUrl(v, i));
  const seen = new Set<string>();
  for (const b of out) {
    const key = `${b.host}:${b.port}`;
    if (seen.has(key)) invalid(`--server: ${b.url} is given twice`);
    seen.add(key);
  }
  return out;
}

export interface Cidr {
  address: string;
  prefix: number;
}

/** An IPv4 address with its prefix length, e.g. 10.0.0.100/24. */
export function parseIpv4Cidr(v: string, what = '--vip'): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(v);
  if (!m) invalid(`${what}: expected an IPv4 address with prefix length (like 10.0.0.100/24), not ${JSON.stringify(v)}`);
  const address = m[1]!;
  if (!isIPv4(address)) invalid(`${what}: not an IPv4 address: ${address}${isIP(address) === 6 ? ' (IPv6 VIPs are not supported)' : ''}`);
  const prefix = Number(m[2]);
  if (prefix < 1 || prefix > 32) invalid(`${what}: prefix length must be 1..32, not ${m[2]}`);
  return { address, prefix };
}

export function parseIpv4(v: string, what: string): string {
  if (!isIPv4(v)) invalid(`${what}: not an IPv4 address: ${JSON.stringify(v)}`);
  return v;
}

/** A Linux interface name: 1–15 characters, no slash or white space. */
export function parseInterface(v: string): string {
  if (!/^[A-Za-z0-9_.@:-]{1,15}$/.test(v)) invalid(`--interface: not a network interface name: ${JSON.stringify(v)}`);
  return v;
}

/** An integer in [min, max], for VRRP priority (1..254: 255 is reserved for the address owner), router id (1..255). */
export function parseIntIn(v: string | number, what: string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) invalid(`${what}: must be an integer in ${min}..${max}, not ${String(v)}`);
  return n;
}
