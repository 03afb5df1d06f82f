// The kernel data plane's decisions (pure): which nftables table names a cluster and a node use,
// which lock guards each table, and the nft script that makes a table DNAT a set of listeners to
// their backends. Learnt from kube-proxy's nftables mode: a `services` chain dispatching on
// daddr . l4proto . dport through one verdict map, a chain per Service port balancing with
// `numgen random mod N` over a chain per endpoint, the same chain jumped to from the nat
// `output` hook (locally originated traffic: loopback clients of 127.x ClusterIPs) and the nat
// `prerouting` hook (traffic from other hosts or network namespaces).
// Guarantees: `rulesetScript` is one transaction (`add table`, `delete table`, the whole table
// defined again), so `nft -f` swaps the old rules for the new ones atomically whatever was there
// (a table left by a dead holder included); equal inputs give byte-equal scripts (the caller
// skips applying an unchanged one); a listener with no backend gets no DNAT (a connect then
// reaches the ClusterIP itself, where nothing listens, and is refused); listeners with session
// affinity are not written (the proxy serves those in userspace: affinity state in nft sets would
// be lost at every whole-table swap), nor UDP ones (isKernelListener says why); only IPv4. A table name maps to exactly one
// lock name and back (`lockOfTable`), so whoever can take a table's lock knows its owner is gone.
// Does not: run nft (nft.ts), choose live backends (the caller filters them), masquerade
// (backends on another host would answer the client directly), reject traffic for Services
// without endpoints in the filter hooks, clear conntrack entries of removed endpoints.
import { createHash } from 'node:crypto';
import type { Backend, ListenerSpec } from './table.js';

export const TABLE_FAMILY = 'ip';
const CLUSTER_TABLE_PREFIX = 'trireme_';
const NODE_TABLE_PREFIX = 'trireme_node_';
const CLUSTER_LOCK_PREFIX = 'trireme-proxy-';
const NODE_LOCK_PREFIX = 'trireme-node-';
const HEX = /^[0-9a-f]{32}$/;

function hash32(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 32);
}

/** The ClusterIP table of a cluster and the machine lock its holder holds (machine-lock.ts names it the same). */
export function clusterTable(clusterKey: string): { table: string; lock: string } {
  const h = hash32(clusterKey);
  return { table: `${CLUSTER_TABLE_PREFIX}${h}`, lock: `${CLUSTER_LOCK_PREFIX}${h}` };
}

/** The NodePort table of one node of a cluster, and the lock its agent holds while it lives. */
export function nodeTable(clusterKey: string, nodeName: string): { table: string; lock: string } {
  const h = hash32(`${clusterKey}\n${nodeName}`);
  return { table: `${NODE_TABLE_PREFIX}${h}`, lock: `${NODE_LOCK_PREFIX}${h}` };
}

/** The lock whose holder owns `table`, or undefined when the name is not one of ours. */
export function lockOfTable(table: string): string | undefined {
  if (table.startsWith(NODE_TABLE_PREFIX)) {
    const h = table.slice(NODE_TABLE_PREFIX.length);
    return HEX.test(h) ? `${NODE_LOCK_PREFIX}${h}` : undefined;
  }
  if (table.startsWith(CLUSTER_TABLE_PREFIX)) {
    const h = table.slice(CLUSTER_TABLE_PREFIX.length);
    return HEX.test(h) ? `${CLUSTER_LOCK_PREFIX}${h}` : undefined;
  }
  return undefined;
}

/** Table names in the output of `nft list tables` (lines `table <family> <name>`) of our family. */
export function parseTables(listing: string): string[] {
  const out: string[] = [];
  for (const line of listing.split('\n')) {
    const m = /^\s*table\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (m && m[1] === TABLE_FAMILY) out.push(m[2] as string);
  }
  return out.sort();
}

/** Tables of ours (by name) other than `own`: candidates for the stale sweep, each with its lock. */
export function sweepCandidates(tables: readonly string[], own: ReadonlySet<string>): { table: string; lock: string }[] {
  return tables.flatMap((table) => {
    const lock = own.has(table) ? undefined : lockOfTable(table);
    return lock === undefined ? [] : [{ table, lock }];
  });
}

/**
 * Listeners the kernel path serves: TCP without session affinity. The rest stay in userspace:
 * affinity state would be lost at every whole-table swap, and a UDP datagram DNATed to an
 * endpoint that just died is refused with nobody to re-send it (the userspace flow moves to the
 * next endpoint and re-sends), while its conntrack entry would pin the client's flow to the dead
 * endpoint for as long as it keeps sending — a DNS client on one socket, say.
 */
export function isKernelListener(s: ListenerSpec): boolean {
  return s.affinity === undefined && s.protocol === 'TCP';
}

/** `specs` without the backends in `dead` (keys `TCP/ip:port`, `UDP/ip:port`), listeners kept even when none is left. */
export function withoutDead(specs: readonly ListenerSpec[], dead: ReadonlySet<string>): ListenerSpec[] {
  if (dead.size === 0) return [...specs];
  const gone = (s: ListenerSpec, b: Backend): boolean => dead.has(`${s.protocol}/${b.key}`);
  return specs.map((s) => (s.backends.some((b) => gone(s, b)) ? { ...s, backends: s.backends.filter((b) => !gone(s, b)) } : s));
}

/** A string safe inside an nft double-quoted comment. */
function comment(s: string): string {
  return s.replace(/[^A-Za-z0-9 ./:_-]/g, '_').slice(0, 120);
}

function endpointChain(i: number, j: number, s: ListenerSpec, b: Backend): string[] {
  return [
    `  chain ep_${i}_${j} {`,
    `    meta l4proto tcp dnat to ${b.ip}:${b.port} comment "${comment(`${s.service}:${s.portName} ${b.key}`)}"`,
    '  }',
  ];
}

/**
 * The script that makes `table` DNAT exactly the kernel listeners among `specs` (sorted by key as
 * listenerTable gives them), replacing whatever the table held. `owner` is written in the
 * table's comment for whoever lists the ruleset.
 */
export function rulesetScript(table: string, owner: string, specs: readonly ListenerSpec[]): string {
  const served = specs.filter((s) => isKernelListener(s) && s.backends.length > 0);
  const lines = [
    `add table ${TABLE_FAMILY} ${table}`,
    `delete table ${TABLE_FAMILY} ${table}`,
    `table ${TABLE_FAMILY} ${table} {`,
    `  comment "${comment(`trireme service proxy: ${owner}`)}"`,
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain services {',
  ];
  if (served.length > 0) {
    const elements = served.map((s, i) => `${s.ip} . tcp . ${s.port} : goto svc_${i}`);
    lines.push(`    ip daddr . meta l4proto . th dport vmap { ${elements.join(', ')} }`);
  }
  lines.push('  }');
  served.forEach((s, i) => {
    const n = s.backends.length;
    const pick = n === 1 ? 'goto ep_' + i + '_0' : `numgen random mod ${n} vmap { ${s.backends.map((_, j) => `${j} : goto ep_${i}_${j}`).join(', ')} }`;
    lines.push(`  chain svc_${i} {`, `    ${pick} comment "${comment(`${s.key} ${s.service}:${s.portName}`)}"`, '  }');
    s.backends.forEach((b, j) => lines.push(...endpointChain(i, j, s, b)));
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The script that removes `table` (no error when it is already gone). */
export function deleteScript(table: string): string {
  return `add table ${TABLE_FAMILY} ${table}\ndelete table ${TABLE_FAMILY} ${table}\n`;
}
