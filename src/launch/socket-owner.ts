// Which of some known processes holds a listening socket, read from /proc (Linux): the e2e tests
// and benchmarks use it to learn which node agent on this machine serves a ClusterIP:port in
// userspace (`listenerOwner`), and which one holds a cluster's proxy machine lock — the agent
// that binds the ClusterIP listeners in userspace mode and writes the cluster's nftables table in
// nftables mode (`machineLockHolder`; docs/agent.md, Service proxy).
// Guarantees: only sockets in the listening state count (TCP LISTEN, UDP unconnected, a unix
// socket with SO_ACCEPTCON), matched on exact IPv4 address and port, or on the exact abstract
// name; the answer is one of `pids` (the first holding it) or undefined; processes that exit
// while we look are skipped.
// Does not: look at IPv6 sockets, at unix sockets bound to a file path, or at processes outside
// `pids`; a snapshot may be stale the moment it returns.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { clusterTable } from '../agent/proxy/nft-ruleset.js';

export type SocketProtocol = 'TCP' | 'UDP';

/** `0A001A7F:0050` (little-endian IPv4 as /proc prints it on x86/arm) → `127.26.0.10`, 80. */
export function parseProcAddress(field: string): { ip: string; port: number } | undefined {
  const [hexIp, hexPort] = field.split(':');
  if (hexIp === undefined || hexPort === undefined || hexIp.length !== 8) return undefined;
  const bytes = [6, 4, 2, 0].map((i) => parseInt(hexIp.slice(i, i + 2), 16));
  return { ip: bytes.join('.'), port: parseInt(hexPort, 16) };
}

/** Socket inodes listening on ip:port, from the text of /proc/net/tcp or /proc/net/udp. */
export function listeningInodes(procNetText: string, protocol: SocketProtocol, ip: string, port: number): Set<string> {
  // TCP_LISTEN is 0A; an unconnected (bound) UDP socket shows TCP_CLOSE, 07.
  const state = protocol === 'TCP' ? '0A' : '07';
  const out = new Set<string>();
  for (const line of procNetText.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== state) continue;
    const local = parseProcAddress(f[1] ?? '');
    if (local?.ip === ip && local.port === port) out.add(f[9] ?? '');
  }
  return out;
}

function socketInodesOf(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out; // exited
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) out.add(m[1]);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

/** The first of `pids` with an open file descriptor on one of the socket `inodes`. */
function ownerOf(inodes: ReadonlySet<string>, pids: readonly number[]): number | undefined {
  if (inodes.size === 0) return undefined;
  for (const pid of pids) {
    for (const inode of socketInodesOf(pid)) if (inodes.has(inode)) return pid;
  }
  return undefined;
}

/** The pid among `pids` that has a socket listening on ip:port, if any. */
export function listenerOwner(protocol: SocketProtocol, ip: string, port: number, pids: readonly number[]): number | undefined {
  const table = readFileSync(protocol === 'TCP' ? '/proc/net/tcp' : '/proc/net/udp', 'utf8');
  return ownerOf(listeningInodes(table, protocol, ip, port), pids);
}

/** __SO_ACCEPTCON in the Flags column of /proc/net/unix: the socket listens. */
const SO_ACCEPTCON = 0x10000;

/**
 * Inodes of unix sockets listening on the abstract name `name`, from the text of /proc/net/unix.
 * The Path column shows an abstract name with `@` for its leading NUL and for every NUL after it:
 * Node binds the whole `sun_path` (108 bytes), so `name` is followed by NULs shown as `@`s.
 */
export function abstractListeningInodes(procNetUnixText: string, name: string): Set<string> {
  const out = new Set<string>();
  for (const line of procNetUnixText.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const f = line.trim().split(/\s+/);
    const path = f[7] ?? '';
    if (!path.startsWith(`@${name}`) || !/^@*$/.test(path.slice(name.length + 1))) continue;
    if ((parseInt(f[3] ?? '0', 16) & SO_ACCEPTCON) === 0) continue;
    out.add(f[6] ?? '');
  }
  return out;
}

/** The pid among `pids` listening on the abstract unix socket `name`, if any. */
export function abstractSocketOwner(name: string, pids: readonly number[]): number | undefined {
  return ownerOf(abstractListeningInodes(readFileSync('/proc/net/unix', 'utf8'), name), pids);
}

/**
 * The pid among `pids` holding the proxy machine lock of the cluster whose key (the cluster CA,
 * PEM, as the agents have it in `agent/credentials/ca.crt`) is `clusterKey`: the agent serving
 * the cluster's ClusterIPs on this machine, in either proxy mode.
 */
export function machineLockHolder(clusterKey: string, pids: readonly number[]): number | undefined {
  return abstractSocketOwner(clusterTable(clusterKey).lock, pids);
}
