// Formatting of the cluster status (src/api/cluster-status.ts): every server and member on a
// line of its own, roles and "-" for unknown values, and the /readyz?verbose member line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatClusterStatus, leaseLine, memberLine, type ClusterStatus, type StoreMemberStatus } from '../../src/api/cluster-status.js';

const m = (name: string, o: Partial<StoreMemberStatus> = {}): StoreMemberStatus => ({
  id: `${name}-id`, name, peerUrls: [`https://${name}:2380`], clientUrls: [`https://${name}:2379`], isLeader: false, isLearner: false, healthy: true, raftIndex: 10, lag: 0, ...o,
});

describe('cluster status formatting', () => {
  const status: ClusterStatus = {
    apiVersion: 'trireme/v1', kind: 'ClusterStatus', answeredBy: 's1',
    servers: [{ address: '10.0.0.1:6443' }, { address: '10.0.0.2:6443' }],
    store: { backend: 'managed-etcd', members: [m('s1', { isLeader: true }), m('s2', { isLearner: true, lag: 5 }), m('s3', { healthy: false, raftIndex: undefined, lag: undefined, error: 'refused' }), m('', { id: 'abc' })] },
    leases: [{ name: 'kube-controller-manager', holder: 's1_x', renewTime: '2026-12-02T01:00:00.000000Z', transitions: 2 }, { name: 'kube-scheduler' }],
  };

  it('prints servers, members with their roles, and lease holders', () => {
    const out = formatClusterStatus(status);
    assert.match(out, /^SERVERS \(2\)\n  10\.0\.0\.1:6443\n  10\.0\.0\.2:6443\n/);
    assert.match(out, /^ {2}s1\s+leader\s+healthy\s+10\s+0\s+https:\/\/s1:2379$/m);
    assert.match(out, /^ {2}s2\s+learner\s+healthy\s+10\s+5\s/m);
    assert.match(out, /^ {2}s3\s+follower\s+unhealthy\s+-\s+-\s/m);
    assert.match(out, /^ {2}\(unstarted abc\)\s+follower/m);
    assert.match(out, /^ {2}kube-controller-manager\s+s1_x\s+2026-12-02T01:00:00.000000Z\s+2$/m);
    assert.match(out, /^ {2}kube-scheduler\s+-\s+-\s+-$/m);
  });

  it('a readyz line per member, naming role, health, index and lag', () => {
    assert.equal(memberLine(m('s1', { isLeader: true })), 'store member s1: leader, healthy, raft index 10, lag 0, https://s1:2379');
    assert.equal(memberLine(m('s3', { healthy: false, error: 'refused', raftIndex: undefined, lag: undefined })), 'store member s3: follower, unhealthy (refused), raft index -, lag -, https://s3:2379');
  });

  it('a readyz line per leader Lease, naming its holder, or that it has none', () => {
    assert.equal(leaseLine({ name: 'kube-scheduler', holder: 's2_ab12', transitions: 3, renewTime: '2026-12-02T01:00:00.000000Z' }),
      'leader lease kube-scheduler: s2_ab12 (transitions 3, renewed 2026-12-02T01:00:00.000000Z)');
    assert.equal(leaseLine({ name: 'kube-controller-manager' }), 'leader lease kube-controller-manager: no holder');
  });
});
