// The dashboard's data shaping (src/ops/dashboard/rows.ts), in node: rows from API objects and
// the cluster status, the watch cache, the doctor's answers; and that the compiled module the
// browser loads imports nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import type { DaemonSet, Deployment, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ClusterStatus, StoreMemberStatus } from '../../../src/api/cluster-status.js';
import {
  applyWatchEvent, cacheFromList, doctorView, formatAge, holderNode, leaseRows, nodeRows, serverRows, storeLeader, warningRows, workloadRows,
} from '../../../src/ops/dashboard/rows.js';

const NOW = Date.parse('2026-12-02T10:00:00Z');
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString();

function member(name: string, ip: string, over: Partial<StoreMemberStatus> = {}): StoreMemberStatus {
  return { id: `id-${name}`, name, peerUrls: [`https://${ip}:2380`], clientUrls: [`https://${ip}:2379`], isLeader: false, isLearner: false, healthy: true, raftIndex: 100, lag: 0, ...over };
}

function status(members: StoreMemberStatus[], servers: string[], leases: ClusterStatus['leases'] = []): ClusterStatus {
  return { apiVersion: 'trireme/v1', kind: 'ClusterStatus', servers: servers.map((address) => ({ address })), store: { backend: 'managed-etcd', members }, leases };
}

describe('dashboard rows', () => {
  it('joins store members to their API address by host, and says which leader leases each server holds', () => {
    const s = status(
      [member('s2', '127.0.70.2', { isLeader: true }), member('s1', '127.0.70.1'), member('s3', '127.0.70.3')],
      ['127.0.70.3:6443', '127.0.70.1:6443', '127.0.70.2:6443'],
      [{ name: 'kube-controller-manager', holder: 's1_ab12', renewTime: ago(2), transitions: 1 }, { name: 'kube-scheduler', holder: 's1_cd34', transitions: 0 }],
    );
    const rows = serverRows(s);
    assert.deepEqual(rows.map((r) => [r.name, r.api, r.state, r.storeRole]), [
      ['s1', '127.0.70.1:6443', 'up', 'follower'],
      ['s2', '127.0.70.2:6443', 'up', 'leader'],
      ['s3', '127.0.70.3:6443', 'up', 'follower'],
    ]);
    assert.deepEqual(rows[0]!.leads, ['kube-controller-manager', 'kube-scheduler']);
    assert.equal(storeLeader(s), 's2');
    assert.deepEqual(leaseRows(s, NOW).map((l) => [l.name, l.holderServer, l.renewedAgeSeconds, l.transitions]), [
      ['kube-controller-manager', 's1', 2, 1], ['kube-scheduler', 's1', undefined, 0],
    ]);
  });

  it('a killed server: its member unhealthy is down (with why); healthy but unpublished is degraded', () => {
    const rows = serverRows(status(
      [member('s1', '127.0.70.1', { isLeader: true }), member('s2', '127.0.70.2', { healthy: false, error: 'connect ECONNREFUSED', raftIndex: undefined }), member('s3', '127.0.70.3')],
      ['127.0.70.1:6443', '127.0.70.2:6443'],
    ));
    assert.deepEqual(rows.map((r) => [r.name, r.state, r.detail]), [
      ['s1', 'up', undefined],
      ['s2', 'down', 'connect ECONNREFUSED'],
      ['s3', 'degraded', 'API server not published in default/kubernetes'],
    ]);
  });

  it('servers without a managed member (SQLite, external etcd) are rows of their own, named by address', () => {
    const s: ClusterStatus = { apiVersion: 'trireme/v1', kind: 'ClusterStatus', servers: [{ address: '10.0.0.2:6443' }, { address: '10.0.0.1:6443' }], store: { backend: 'sqlite', members: [] }, leases: [] };
    assert.deepEqual(serverRows(s).map((r) => [r.name, r.state, r.storeRole]), [['10.0.0.1:6443', 'up', 'sqlite'], ['10.0.0.2:6443', 'up', 'sqlite']]);
    assert.equal(storeLeader(s), undefined);
  });

  it('holder identities name their server before the first underscore', () => {
    assert.equal(holderNode('s3_9f8e'), 's3');
    assert.equal(holderNode('plainhost'), 'plainhost');
    assert.equal(holderNode(undefined), undefined);
  });

  it('nodes: Ready status, heartbeat age from the node Lease (else the Ready heartbeat), problem conditions, taints', () => {
    const nodes: Node[] = [
      { metadata: { name: 'n2' }, spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }, status: { conditions: [{ type: 'Ready', status: 'Unknown', lastHeartbeatTime: ago(40) }, { type: 'MemoryPressure', status: 'True' }, { type: 'DiskPressure', status: 'False' }] } },
      { metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: ago(30) }] } },
      { metadata: { name: 'n3' } },
    ];
    const leases: Lease[] = [{ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime: ago(1.5) } }];
    assert.deepEqual(nodeRows(nodes, leases, NOW), [
      { name: 'n1', ready: 'True', heartbeatAgeSeconds: 1.5, problems: [], schedulable: true, taints: [] },
      { name: 'n2', ready: 'Unknown', heartbeatAgeSeconds: 40, problems: ['MemoryPressure'], schedulable: false, taints: ['node.kubernetes.io/unreachable:NoExecute'] },
      { name: 'n3', ready: 'Unknown', heartbeatAgeSeconds: undefined, problems: [], schedulable: true, taints: [] },
    ]);
  });

  it('workloads: ready over desired for each kind, defaults applied, sorted by namespace, kind, name', () => {
    const deploys: Deployment[] = [
      { metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 3, selector: {}, template: {} }, status: { readyReplicas: 2 } },
      { metadata: { name: 'one', namespace: 'default' }, spec: { selector: {}, template: {} }, status: {} },
    ];
    const ds: DaemonSet[] = [{ metadata: { name: 'dns', namespace: 'kube-system' }, spec: { selector: {}, template: {} }, status: { desiredNumberScheduled: 2, numberReady: 2, currentNumberScheduled: 2, numberMisscheduled: 0 } }];
    const sts: StatefulSet[] = [{ metadata: { name: 'db', namespace: 'default' }, spec: { replicas: 2, selector: {}, template: {}, serviceName: 'db' }, status: { replicas: 2, readyReplicas: 2 } }];
    assert.deepEqual(workloadRows(deploys, ds, sts).map((r) => [r.kind, r.namespace, r.name, r.ready, r.desired, r.ok]), [
      ['Deployment', 'default', 'one', 0, 1, false],
      ['Deployment', 'default', 'web', 2, 3, false],
      ['StatefulSet', 'default', 'db', 2, 2, true],
      ['DaemonSet', 'kube-system', 'dns', 2, 2, true],
    ]);
  });

  it('warnings: only type Warning, newest first, at most the limit', () => {
    const ev = (name: string, type: string, secondsAgo: number, extra: Partial<Event> = {}): Event => ({
      metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: `pod-${name}` }, type, reason: `R${name}`, message: `m${name}`, lastTimestamp: ago(secondsAgo), count: 2, ...extra,
    });
    const rows = warningRows([ev('a', 'Warning', 30), ev('b', 'Normal', 1), ev('c', 'Warning', 5), ev('d', 'Warning', 60, { lastTimestamp: undefined, eventTime: ago(10), count: undefined })], NOW, 2);
    assert.deepEqual(rows, [
      { namespace: 'default', object: 'Pod/pod-c', reason: 'Rc', message: 'mc', count: 2, lastSeenAgeSeconds: 5 },
      { namespace: 'default', object: 'Pod/pod-d', reason: 'Rd', message: 'md', count: 1, lastSeenAgeSeconds: 10 },
    ]);
  });

  it('the watch cache: added, modified, deleted, bookmarks, 410 means list again, other errors are errors', () => {
    const cache = cacheFromList([{ metadata: { name: 'a', namespace: 'x', resourceVersion: '5' } }]);
    assert.deepEqual(applyWatchEvent(cache, { type: 'ADDED', object: { metadata: { name: 'b', namespace: 'x', resourceVersion: '6' } } }), { kind: 'changed', resourceVersion: '6' });
    assert.deepEqual(applyWatchEvent(cache, { type: 'MODIFIED', object: { metadata: { name: 'a', namespace: 'x', resourceVersion: '7' } } }), { kind: 'changed', resourceVersion: '7' });
    assert.equal(cache.get('x/a')?.metadata?.resourceVersion, '7');
    assert.deepEqual(applyWatchEvent(cache, { type: 'DELETED', object: { metadata: { name: 'b', namespace: 'x', resourceVersion: '8' } } }), { kind: 'changed', resourceVersion: '8' });
    assert.deepEqual([...cache.keys()], ['x/a']);
    assert.deepEqual(applyWatchEvent(cache, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }), { kind: 'bookmark', resourceVersion: '9' });
    assert.deepEqual(applyWatchEvent(cache, { type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } }), { kind: 'expired' });
    assert.deepEqual(applyWatchEvent(cache, { type: 'ERROR', object: { kind: 'Status', code: 500, message: 'boom' } }), { kind: 'error', message: 'boom' });
    assert.equal(applyWatchEvent(cache, { type: 'WEIRD' }).kind, 'error');
    assert.deepEqual([...cache.keys()], ['x/a']);
  });

  it('doctor: findings by severity on 200, "not available" on 404, an error otherwise', () => {
    const v = doctorView(200, { findings: [
      { id: 'one-replica', severity: 'warning', subject: 'Deployment default/web', message: '1 replica', fix: 'scale to 2 or more' },
      { id: 'servers', severity: 'critical', subject: 'cluster', message: 'fewer than 3 servers', fix: 'join two servers' },
    ] });
    assert.equal(v.state, 'findings');
    assert.deepEqual(v.state === 'findings' ? v.findings.map((f) => f.id) : [], ['servers', 'one-replica']);
    assert.deepEqual(doctorView(200, { findings: [] }), { state: 'findings', findings: [] });
    assert.deepEqual(doctorView(404, { kind: 'Status', code: 404 }), { state: 'unavailable' });
    assert.deepEqual(doctorView(500, { message: 'store down' }), { state: 'error', message: 'store down' });
    assert.equal(doctorView(200, { nope: 1 }).state, 'error');
  });

  it('ages read like kubectl\'s', () => {
    assert.deepEqual([formatAge(undefined), formatAge(-1), formatAge(1.7), formatAge(119), formatAge(120), formatAge(7199), formatAge(7200), formatAge(172800)], ['-', '0s', '1s', '119s', '2m', '119m', '2h', '2d']);
  });

  it('the compiled module the browser loads has no imports', async () => {
    const js = await readFile(new URL('../../../src/ops/dashboard/rows.js', import.meta.url), 'utf8');
    assert.doesNotMatch(js, /^\s*import\b/m);
    assert.doesNotMatch(js, /\brequire\(/);
    const app = await readFile(new URL('../../../src/ops/dashboard/app.js', import.meta.url), 'utf8');
    assert.deepEqual([...app.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]), ['./rows.js']);
  });
});
