// The doctor's judgement (src/ops/doctor/findings.ts) over seeded observations: a healthy
// 3-server cluster has no finding; each broken one has exactly the findings its fault explains.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreMemberStatus } from '../../../src/api/cluster-status.js';
import { findings } from '../../../src/ops/doctor/findings.js';
import type { Observation, ObservedNode } from '../../../src/ops/doctor/observation.js';
import { formatFindings } from '../../../src/ops/doctor/format.js';
import { snapshotRecords } from '../../../src/ops/doctor/gather.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const SERVERS = ['https://127.0.0.1:6443', 'https://127.0.0.2:6443', 'https://127.0.0.3:6443'];

const member = (name: string, over: Partial<StoreMemberStatus> = {}): StoreMemberStatus => ({
  id: name, name, peerUrls: [`https://${name}:2380`], clientUrls: [`https://${name}:2379`], isLeader: name === 's1', isLearner: false, healthy: true, raftIndex: 100, lag: 0, ...over,
});
const node = (name: string, over: Partial<ObservedNode> = {}): ObservedNode => ({
  name, knownServers: SERVERS,
  conditions: [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }, { type: 'DiskPressure', status: 'False' }, { type: 'PIDPressure', status: 'False' }],
  ...over,
});

/** A 3-server managed-etcd cluster of 3 nodes, everything spread, snapshots on two machines, fresh certificates. */
function healthy(): Observation {
  return {
    servers: ['127.0.0.1:6443', '127.0.0.2:6443', '127.0.0.3:6443'],
    store: { backend: 'managed-etcd', members: [member('s1'), member('s2'), member('s3')] },
    leases: ['kube-controller-manager', 'kube-scheduler'].map((name) => ({ name, holder: 's1_abc', renewTime: NOW - 1000, durationSeconds: 15, transitions: 0 })),
    elections: [{ lease: 'kube-controller-manager', identity: 's1_abc', first: NOW - 30 * MIN, last: NOW - 30 * MIN, count: 1 }],
    nodes: [node('s1'), node('s2'), node('s3')],
    workloads: [
      { kind: 'Deployment', namespace: 'default', name: 'web', replicas: 3, podNodes: ['s1', 's2', 's3'] },
      { kind: 'StatefulSet', namespace: 'db', name: 'pg', replicas: 3, podNodes: ['s1', 's2', 's3'] },
      { kind: 'Deployment', namespace: 'kube-system', name: 'coredns', replicas: 2, podNodes: ['s1', 's2'] },
      { kind: 'Deployment', namespace: 'default', name: 'paused', replicas: 0, podNodes: [] },
    ],
    dns: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns', replicas: 2, podNodes: ['s1', 's2'] },
    snapshots: [{ name: 'a', server: 's1', created: NOW - 2 * 3_600_000 }, { name: 'b', server: 's2', created: NOW - 3_600_000 }],
    certificates: [
      { kind: 'ca', subject: 'cluster CA', notAfter: NOW + 3650 * DAY },
      { kind: 'apiserver', subject: 'API server 127.0.0.1:6443 serving certificate', notAfter: NOW + 365 * DAY },
      { kind: 'kubelet', subject: 'node s1 agent serving certificate', notAfter: NOW + 300 * DAY },
    ],
  };
}

/** Each case: what breaks the healthy cluster, and the (id, subject) findings it must give, nothing else. */
const CASES: { name: string; change: (o: Observation) => void; want: [string, string][] }[] = [
  {
    name: 'one server on SQLite (the single-server default)',
    change: (o) => {
      o.servers = ['127.0.0.1:6443'];
      o.store = { backend: 'sqlite', members: [] };
      for (const n of o.nodes) n.knownServers = ['https://127.0.0.1:6443'];
    },
    want: [['servers-fewer-than-3', 'control plane'], ['store-not-replicated', 'store']],
  },
  {
    name: 'two servers: fewer than 3, and an even number of store members',
    change: (o) => {
      o.servers = o.servers.slice(0, 2);
      o.store.members = o.store.members.slice(0, 2);
    },
    want: [['servers-fewer-than-3', 'control plane'], ['store-even-members', 'store']],
  },
  {
    name: 'four store members, one of them a learner, is three voters: fine',
    change: (o) => { o.store.members.push(member('s4', { isLearner: true })); },
    want: [],
  },
  {
    name: 'four voting members: even',
    change: (o) => {
      o.servers.push('127.0.0.4:6443');
      o.store.members.push(member('s4'));
    },
    want: [['store-even-members', 'store']],
  },
  {
    name: 'a store member down and another lagging',
    change: (o) => {
      o.store.members[1] = member('s2', { healthy: false, error: 'context deadline exceeded', lag: undefined, raftIndex: undefined });
      o.store.members[2] = member('s3', { lag: 5000 });
    },
    want: [['store-member-down', 'store member s2'], ['store-member-lagging', 'store member s3']],
  },
  {
    name: 'store members unreadable',
    change: (o) => { o.store.error = 'etcdserver: request timed out'; },
    want: [['store-unreadable', 'store']],
  },
  {
    name: 'leader churn: 4 elections in the last 10 minutes (one folded into a count)',
    change: (o) => {
      o.elections.push(
        { lease: 'kube-scheduler', identity: 's1_a', first: NOW - 8 * MIN, last: NOW - 8 * MIN, count: 1 },
        { lease: 'kube-scheduler', identity: 's2_b', first: NOW - 6 * MIN, last: NOW - 2 * MIN, count: 2 },
        { lease: 'kube-scheduler', identity: 's3_c', first: NOW - MIN, last: NOW - MIN, count: 1 },
      );
    },
    want: [['leader-churn', 'lease kube-system/kube-scheduler']],
  },
  {
    name: 'elections long ago are not churn',
    change: (o) => {
      for (let i = 0; i < 5; i++) o.elections.push({ lease: 'kube-scheduler', identity: `s${i}`, first: NOW - (60 + i) * MIN, last: NOW - (60 + i) * MIN, count: 1 });
    },
    want: [],
  },
  {
    name: 'a leader that stopped renewing, and a lease never held',
    change: (o) => {
      o.leases[0]!.renewTime = NOW - 60_000;
      o.leases[1] = { name: 'kube-scheduler' };
    },
    want: [['leader-missing', 'lease kube-system/kube-controller-manager'], ['leader-missing', 'lease kube-system/kube-scheduler']],
  },
  {
    name: 'an agent that knows only one server; one that does not say is not judged',
    change: (o) => {
      o.nodes[1]!.knownServers = ['https://127.0.0.1:6443'];
      delete o.nodes[2]!.knownServers;
    },
    want: [['agent-one-server', 'node s2']],
  },
  {
    name: 'a Deployment and a StatefulSet with 1 replica',
    change: (o) => {
      o.workloads[0] = { kind: 'Deployment', namespace: 'default', name: 'web', replicas: 1, podNodes: ['s1'] };
      o.workloads[1] = { kind: 'StatefulSet', namespace: 'db', name: 'pg', replicas: 1, podNodes: [] };
    },
    want: [['workload-single-replica', 'deployment default/web'], ['workload-single-replica', 'statefulset db/pg']],
  },
  {
    name: 'all replicas on one node',
    change: (o) => { o.workloads[0] = { kind: 'Deployment', namespace: 'default', name: 'web', replicas: 3, podNodes: ['s2', 's2', 's2'] }; },
    want: [['workload-one-node', 'deployment default/web']],
  },
  {
    name: 'DNS on one node is judged once, as DNS',
    change: (o) => {
      const dns = { kind: 'Deployment' as const, namespace: 'kube-system', name: 'coredns', replicas: 2, podNodes: ['s3', 's3'] };
      o.workloads[2] = dns;
      o.dns = dns;
    },
    want: [['dns-one-node', 'cluster DNS']],
  },
  {
    name: 'DNS scaled to 1',
    change: (o) => {
      const dns = { kind: 'Deployment' as const, namespace: 'kube-system', name: 'coredns', replicas: 1, podNodes: ['s1'] };
      o.workloads[2] = dns;
      o.dns = dns;
    },
    want: [['dns-single-replica', 'cluster DNS']],
  },
  {
    name: 'no snapshot ConfigMap',
    change: (o) => { delete o.snapshots; },
    want: [['snapshot-none', 'snapshots']],
  },
  {
    name: 'snapshots only on one machine, and stale',
    change: (o) => { o.snapshots = [{ name: 'a', server: 's1', created: NOW - 2 * DAY }]; },
    want: [['snapshot-one-machine', 'snapshots'], ['snapshot-stale', 'snapshots']],
  },
  {
    name: 'certificates: one expiring in 20 days, one in 3 days, one expired',
    change: (o) => {
      o.certificates[1]!.notAfter = NOW + 20 * DAY;
      o.certificates[2]!.notAfter = NOW + 3 * DAY;
      o.certificates.push({ kind: 'kubelet', subject: 'node s3 agent serving certificate', notAfter: NOW - DAY });
    },
    want: [
      ['certificate-expiring', 'node s1 agent serving certificate'], ['certificate-expiring', 'node s3 agent serving certificate'],
      ['certificate-expiring', 'API server 127.0.0.1:6443 serving certificate'],
    ],
  },
  {
    name: 'a node under memory and disk pressure, and a node NotReady',
    change: (o) => {
      o.nodes[0]!.conditions = [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'True', message: 'available 90Mi' }, { type: 'DiskPressure', status: 'True' }];
      o.nodes[2]!.conditions = [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }];
    },
    want: [['node-not-ready', 'node s3'], ['node-pressure', 'node s1'], ['node-pressure', 'node s1']],
  },
];

describe('doctor findings over seeded clusters', () => {
  test('a healthy 3-server cluster: no finding', () => {
    assert.deepEqual(findings(healthy(), NOW), []);
    assert.equal(formatFindings([]), 'No single point of failure found.\n');
  });

  for (const c of CASES) {
    test(c.name, () => {
      const o = healthy();
      c.change(o);
      const got = findings(o, NOW);
      const key = (x: [string, string]) => `${x[0]} | ${x[1]}`;
      assert.deepEqual(got.map((f) => key([f.id, f.subject])).sort(), c.want.map(key).sort(), JSON.stringify(got, null, 2));
      for (const f of got) {
        assert.ok(f.message.length > 0 && f.fix.length > 0, `${f.id} has a message and a fix`);
        assert.ok(f.severity === 'critical' || f.severity === 'warning');
      }
      // Critical first.
      const ranks = got.map((f) => (f.severity === 'critical' ? 0 : 1));
      assert.deepEqual(ranks, [...ranks].sort());
    });
  }

  test('severities: expired and near-expiry certificates are critical, a month out a warning', () => {
    const o = healthy();
    o.certificates = [
      { kind: 'apiserver', subject: 'a', notAfter: NOW + 20 * DAY },
      { kind: 'kubelet', subject: 'b', notAfter: NOW + 3 * DAY },
      { kind: 'ca', subject: 'c', notAfter: NOW - 3 * DAY },
    ];
    const bySubject = Object.fromEntries(findings(o, NOW).map((f) => [f.subject, f]));
    assert.equal(bySubject.a?.severity, 'warning');
    assert.equal(bySubject.b?.severity, 'critical');
    assert.match(bySubject.c!.message, /expired 3d ago/);
    assert.match(bySubject.b!.fix, /agent\/credentials/);
  });

  test('the one-server finding names the server and the way out; the table prints every finding and counts them', () => {
    const o = healthy();
    o.servers = ['127.0.0.9:6443'];
    const got = findings(o, NOW);
    assert.match(got[0]!.message, /1 API server .*127\.0\.0\.9:6443/);
    assert.match(got[0]!.fix, /--cluster-init/);
    const text = formatFindings(got);
    assert.match(text, /^CRITICAL control plane: /);
    assert.match(text, /\n\s+fix: run 3/);
    assert.match(text, /1 finding \(1 critical, 0 warnings\)\n$/);
  });
});

describe('snapshot records of kube-system/trireme-snapshots', () => {
  test('JSON lines with server and created are records; others are skipped', () => {
    const got = snapshotRecords({
      data: {
        'snap-2': JSON.stringify({ name: 'snap-2', server: 's2', created: '2026-12-02T11:00:00Z', sha256: 'x' }),
        'snap-1': JSON.stringify({ name: 'snap-1', server: 's1', created: '2026-12-02T10:00:00Z' }),
        broken: '{not json',
        nodate: JSON.stringify({ server: 's1' }),
      },
    });
    assert.deepEqual(got, [
      { name: 'snap-1', server: 's1', created: Date.parse('2026-12-02T10:00:00Z') },
      { name: 'snap-2', server: 's2', created: Date.parse('2026-12-02T11:00:00Z') },
    ]);
  });
});
