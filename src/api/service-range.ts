// The Service address range (`--service-cluster-ip-range`) and NodePort range
// (`--service-node-port-range`) as values, with the fixed addresses every cluster uses: the first
// address for `default/kubernetes`, the tenth for the cluster DNS Service, as Kubernetes does.
// Pure: parsing rejects bad input with a one-line message; nothing here reserves an address.
// Does not: IPv6 or dual-stack ranges.

export interface ServiceRange {
  /** As given, normalised: `127.10.0.0/16`. */
  cidr: string;
  /** The network address as a 32-bit unsigned number. */
  base: number;
  /** Number of addresses in the range (network and broadcast included). */
  size: number;
}

export interface NodePortRange { min: number; max: number }

/** ClusterIPs on loopback (DESIGN.md §5): node proxies listen on them without root or routing. */
export const DEFAULT_SERVICE_CIDR = '127.10.0.0/16';
export const DEFAULT_NODE_PORT_RANGE: NodePortRange = { min: 30000, max: 32767 };

/** Offsets of the addresses Kubernetes fixes: the API server's Service, the cluster DNS Service. */
export const KUBERNETES_SERVICE_OFFSET = 1;
export const DNS_SERVICE_OFFSET = 10;

function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `a.b.c.d/p` with 8 ≤ p ≤ 28 (at least 16 addresses); host bits must be zero. */
export function parseServiceRange(cidr: string): ServiceRange {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  const base = m ? ipToNumber(m[1]!) : undefined;
  const prefix = Number(m?.[2]);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 28) {
    throw new Error(`not an IPv4 service range with a prefix of 8 to 28 bits (like ${DEFAULT_SERVICE_CIDR}): ${cidr}`);
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new Error(`the service range ${cidr} has host bits set (its network is ${numberToIp(base - (base % size))}/${prefix})`);
  return { cidr: `${m![1]}/${prefix}`, base, size };
}

/** The address at `offset` in the range (0 = network address). */
export function ipAt(range: ServiceRange, offset: number): string {
  return numberToIp(range.base + offset);
}

/** Offset of `ip` in the range, or undefined when it is outside. */
export function offsetOf(range: ServiceRange, ip: string): number | undefined {
  const n = ipToNumber(ip);
  if (n === undefined || n < range.base || n >= range.base + range.size) return undefined;
  return n - range.base;
}

/** Offsets a Service may be given: not the network address, not the last (broadcast) one. */
export function isAssignable(range: ServiceRange, offset: number): boolean {
  return offset >= 1 && offset <= range.size - 2;
}

export function kubernetesServiceIp(range: ServiceRange): string {
  return ipAt(range, KUBERNETES_SERVICE_OFFSET);
}

export function dnsServiceIp(range: ServiceRange): string {
  return ipAt(range, DNS_SERVICE_OFFSET);
}
