// The single points of failure of a cluster, judged from one observation (pure): each finding
// names what is at risk and how to fix it. `trireme doctor` prints them, GET
// /trireme/v1/cluster/doctor serves them, the dashboard shows them.
// Guarantees: deterministic (sorted by severity, id, subject); every finding has an id (stable, for
// scripts), a severity (`critical`: one more failure loses the cluster or a workload; `warning`:
// less redundancy than it looks), a subject, a message with the observed figures and a fix; one
// fact gives one finding (coredns is judged as DNS, not also as a workload; a cluster of one
// server is not also told that its agents know one server). Does not: look anything up, or judge
// what it was not shown (an external etcd's members, agents that publish no server list).
import { memberRole } from '../../api/cluster-status.js';
import type { Observation, ObservedWorkload } from './observation.js';

export type Severity = 'critical' | 'warning';

export interface Finding {
  id: string;
  severity: Severity;
  subject: string;
  message: string;
  fix: string;
}

export interface DoctorConfig {
  /** A store member whose raft index is this far behind the leader's is lagging. */
  maxMemberLag: number;
  /** Leader elections of one Lease within `churnWindowMs` that count as churn. */
  churnElections: number;
  churnWindowMs: number;
  /** The newest snapshot must be younger than this (2× the default 6-hourly schedule). */
  snapshotMaxAgeMs: number;
  /** Certificates expiring within this are reported (critical within `certCriticalMs`). */
  certWarnMs: number;
  certCriticalMs: number;
}

const DAY = 86_400_000;

export const DEFAULT_DOCTOR_CONFIG: DoctorConfig = {
  maxMemberLag: 1000,
  churnElections: 3,
  churnWindowMs: 10 * 60_000,
  snapshotMaxAgeMs: 12 * 3_600_000,
  certWarnMs: 30 * DAY,
  certCriticalMs: 7 * DAY,
};

const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;
const DNS = 'kube-system/coredns';
const RANK: Record<Severity, number> = { critical: 0, warning: 1 };

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function distinct(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}

export function findings(o: Observation, now: number, config: Partial<DoctorConfig> = {}): Finding[] {
  const c = { ...DEFAULT_DOCTOR_CONFIG, ...config };
  const out: Finding[] = [];
  const add = (f: Finding): void => void out.push(f);

  // Servers and the store.
  if (o.servers.length < 3) {
    add({
      id: 'servers-fewer-than-3', severity: 'critical', subject: 'control plane',
      message: `${plural(o.servers.length, 'API server')} in default/kubernetes (${o.servers.join(', ') || 'none'}): losing ${o.servers.length <= 1 ? 'it stops' : 'one more stops'} the control plane`,
      fix: 'run 3 (or 5) servers: start the first with --cluster-init, join the others with `trireme server --server URL --token TOKEN`',
    });
  }
  if (o.store.backend === 'sqlite') {
    add({
      id: 'store-not-replicated', severity: 'critical', subject: 'store',
      message: 'the store is SQLite on one server: its disk holds the only copy of the cluster state',
      fix: 'move to an etcd cluster of 3 members (servers started with --cluster-init / --server), and keep snapshots off that machine',
    });
  }
  if (o.store.error) {
    add({ id: 'store-unreadable', severity: 'critical', subject: 'store', message: `the store members could not be read: ${o.store.error}`, fix: 'check the etcd members (trireme cluster status, the servers\' logs)' });
  }
  const voting = o.store.members.filter((m) => !m.isLearner);
  if (voting.length > 0 && voting.length % 2 === 0) {
    add({
      id: 'store-even-members', severity: 'warning', subject: 'store',
      message: `${voting.length} voting store members: quorum needs ${voting.length / 2 + 1}, so it survives no more failures than ${voting.length - 1} members would`,
      fix: `add or remove one server to get an odd number (${voting.length + 1} or ${voting.length - 1}); \`trireme cluster remove NAME\` removes a dead one`,
    });
  }
  for (const m of o.store.members) {
    const name = m.name || `(unstarted ${m.id})`;
    if (!m.healthy) {
      add({
        id: 'store-member-down', severity: 'critical', subject: `store member ${name}`,
        message: `store member ${name} (${memberRole(m)}) is not healthy${m.error ? `: ${m.error}` : ''}; the others hold quorum without a spare`,
        fix: `restart the server of ${name}, or remove it (trireme cluster remove ${name}) and join a new server`,
      });
    } else if (m.lag !== undefined && m.lag > c.maxMemberLag) {
      add({
        id: 'store-member-lagging', severity: 'warning', subject: `store member ${name}`,
        message: `store member ${name} is ${m.lag} raft entries behind the leader`,
        fix: `check ${name}'s disk and network (slow fsync, packet loss); it cannot stand in for a failed member while it lags`,
      });
    }
  }

  // Leaders.
  for (const l of o.leases) {
    // renewTime is the holder's clock: twice the duration leaves room for servers' clocks to differ.
    const expired = l.renewTime === undefined || l.durationSeconds === undefined ? l.holder === undefined : now - l.renewTime > 2 * l.durationSeconds * 1000;
    if (!l.holder || expired) {
      add({
        id: 'leader-missing', severity: 'critical', subject: `lease kube-system/${l.name}`,
        message: l.holder ? `the leader ${l.holder} last renewed ${age(now - (l.renewTime ?? now))} ago, more than twice its ${l.durationSeconds}s lease: nobody leads` : 'no holder: nobody leads',
        fix: 'check that the servers run (trireme cluster status); every server runs the controller manager and scheduler',
      });
    }
    const recent = o.elections.filter((e) => e.lease === l.name).reduce((n, e) => n + (e.first >= now - c.churnWindowMs ? e.count : e.last >= now - c.churnWindowMs ? 1 : 0), 0);
    if (recent >= c.churnElections) {
      add({
        id: 'leader-churn', severity: 'warning', subject: `lease kube-system/${l.name}`,
        message: `${recent} leader elections in the last ${age(c.churnWindowMs)} (lease transitions ${l.transitions ?? '-'}): leaders keep losing their lease`,
        fix: 'look for servers restarting, a slow or overloaded store, or clock jumps; lengthen --leader-elect-lease-duration if renewals time out',
      });
    }
  }

  // Agents and the servers they know.
  if (o.servers.length >= 2) {
    for (const n of o.nodes) {
      if (n.knownServers === undefined || n.knownServers.length >= 2) continue;
      add({
        id: 'agent-one-server', severity: 'warning', subject: `node ${n.name}`,
        message: `the agent of ${n.name} knows ${plural(n.knownServers.length, 'API server')} (${n.knownServers.join(', ') || 'none'}) of ${o.servers.length}: if that one goes, the node goes silent`,
        fix: 'check that the agent can read default/kubernetes Endpoints (it learns the servers from there) and reach the other servers; or give it a load balancer address (--server)',
      });
    }
  }

  // Nodes.
  for (const n of o.nodes) {
    const ready = n.conditions.find((x) => x.type === 'Ready');
    if (ready?.status !== 'True') {
      add({
        id: 'node-not-ready', severity: 'warning', subject: `node ${n.name}`,
        message: `node ${n.name} is ${ready ? `Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : 'without a Ready condition'}: its pods are not running or not known to run`,
        fix: `check the agent on ${n.name} (trireme agent logs); remove the Node if the machine is gone`,
      });
    }
    for (const p of PRESSURE) {
      const cond = n.conditions.find((x) => x.type === p);
      if (cond?.status !== 'True') continue;
      add({
        id: 'node-pressure', severity: 'warning', subject: `node ${n.name}`,
        message: `node ${n.name} has ${p}${cond.message ? `: ${cond.message}` : ''}; its pods may be evicted and no new ones go there`,
        fix: p === 'MemoryPressure' ? 'free memory or move workloads off the node; raise --system-reserved if system daemons need it'
          : p === 'DiskPressure' ? 'free disk space in the agent\'s data dir and container logs' : 'find the process forking without end, or raise pid_max',
      });
    }
  }

  // Workloads.
  const spreadFinding = (w: ObservedWorkload, id: string, subject: string, what: string): void => {
    const nodes = distinct(w.podNodes);
    if (w.replicas === 1) {
      add({
        id: `${id}-single-replica`, severity: 'warning', subject,
        message: `${what} has 1 replica: when its node or pod fails, it is down until a replacement starts`,
        fix: `kubectl scale ${w.kind.toLowerCase()} ${w.name} -n ${w.namespace} --replicas=2 (or more), with pod anti-affinity or a topology spread over nodes`,
      });
    } else if (w.replicas > 1 && nodes.length === 1) {
      add({
        id: `${id}-one-node`, severity: 'warning', subject,
        message: `all ${w.podNodes.length} running replicas of ${what} are on node ${nodes[0]}: that node is its single point of failure`,
        fix: 'add preferred podAntiAffinity on kubernetes.io/hostname (or a topologySpreadConstraint) to the pod template, and have more than one schedulable node',
      });
    }
  };
  for (const w of o.workloads) {
    if (`${w.namespace}/${w.name}` === DNS && w.kind === 'Deployment') continue; // judged as DNS below
    spreadFinding(w, 'workload', `${w.kind.toLowerCase()} ${w.namespace}/${w.name}`, `${w.kind} ${w.namespace}/${w.name}`);
  }
  if (o.dns) spreadFinding(o.dns, 'dns', 'cluster DNS', `the cluster DNS (${DNS})`);

  // Snapshots.
  if (o.snapshots === undefined || o.snapshots.length === 0) {
    add({
      id: 'snapshot-none', severity: 'critical', subject: 'snapshots',
      message: o.snapshots === undefined ? 'no snapshot recorded (kube-system/trireme-snapshots does not exist)' : 'no snapshot recorded (kube-system/trireme-snapshots is empty)',
      fix: 'take one now (trireme snapshot save) and keep the schedule on (--snapshot-schedule)',
    });
  } else {
    const newest = Math.max(...o.snapshots.map((s) => s.created));
    if (now - newest > c.snapshotMaxAgeMs) {
      add({
        id: 'snapshot-stale', severity: 'critical', subject: 'snapshots',
        message: `the newest snapshot is ${age(now - newest)} old (more than ${age(c.snapshotMaxAgeMs)})`,
        fix: 'check the servers\' snapshot schedule (--snapshot-schedule) and their logs for failed snapshots; take one now (trireme snapshot save)',
      });
    }
    const machines = distinct(o.snapshots.map((s) => s.server));
    if (machines.length === 1) {
      add({
        id: 'snapshot-one-machine', severity: 'warning', subject: 'snapshots',
        message: `every snapshot (${o.snapshots.length}) is on ${machines[0]}: losing that machine loses them with it`,
        fix: 'take snapshots on another server too (every server runs the schedule), or copy the snapshot dir off the machine',
      });
    }
  }

  // Certificates.
  for (const cert of o.certificates) {
    const left = cert.notAfter - now;
    if (left > c.certWarnMs) continue;
    add({
      id: 'certificate-expiring', severity: left <= c.certCriticalMs ? 'critical' : 'warning', subject: cert.subject,
      message: left <= 0 ? `${cert.subject} expired ${age(-left)} ago` : `${cert.subject} expires in ${age(left)} (${new Date(cert.notAfter).toISOString()})`,
      fix: cert.kind === 'apiserver' ? 'restart that server: at start it reissues its serving certificate when it expires within 30 days'
        : cert.kind === 'kubelet' ? 'agents do not renew their certificates: stop the agent, remove DATA_DIR/agent/credentials and start it again with --token (it joins anew)'
          : 'the CA is not renewed by Trireme: plan a new cluster CA before it expires (every certificate chains to it)',
    });
  }

  return out.sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.id.localeCompare(b.id) || a.subject.localeCompare(b.subject));
}
