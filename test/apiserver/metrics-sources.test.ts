// The API server's metric sources that are pure functions or simple collectors: cluster-state
// samples (node ready, deployment replicas, container restarts), etcd member samples (health,
// leader, lag, quorum) and certificate expiry, read through a real prom-client registry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Registry } from 'prom-client';
import { clusterStateSamples } from '../../src/apiserver/cluster-state-metrics.js';
import { memberSamples, registerMemberMetrics } from '../../src/apiserver/store-member-metrics.js';
import { expirySeconds, registerCertificateMetrics } from '../../src/apiserver/cert-metrics.js';
import { ensurePki } from '../../src/apiserver/pki.js';
import { parseExposition } from '../../src/ops/alerts/exposition.js';
import type { StoreMemberStatus } from '../../src/api/cluster-status.js';

const member = (name: string, o: Partial<StoreMemberStatus> = {}): StoreMemberStatus => ({ id: `id-${name}`, name, peerUrls: [], clientUrls: [], isLeader: false, isLearner: false, healthy: true, ...o });

async function values(r: Registry, name: string): Promise<[Record<string, string>, number][]> {
  return parseExposition(await r.metrics()).filter((s) => s.labels.__name__ === name).map((s) => {
    const { __name__: _n, ...rest } = s.labels;
    return [rest, s.value];
  });
}

describe('clusterStateSamples', () => {
  it('reads Ready, replicas (unset = 1) and every container restart count', () => {
    const s = clusterStateSamples(
      [{ metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { metadata: { name: 'n2' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }, { metadata: { name: 'n3' } }],
      [{ metadata: { namespace: 'd', name: 'web' }, spec: { replicas: 3, selector: {}, template: {} }, status: { availableReplicas: 2 } }, { metadata: { namespace: 'd', name: 'one' }, spec: { selector: {}, template: {} } }],
      [{ metadata: { namespace: 'd', name: 'p' }, status: { initContainerStatuses: [{ name: 'init', restartCount: 1, image: '', imageID: '', ready: false }], containerStatuses: [{ name: 'app', restartCount: 4, image: '', imageID: '', ready: true }] } }, { metadata: { namespace: 'd', name: 'pending' } }],
    );
    assert.deepEqual(s.nodeReady, [{ node: 'n1', value: 1 }, { node: 'n2', value: 0 }, { node: 'n3', value: 0 }]);
    assert.deepEqual(s.deployments, [{ namespace: 'd', deployment: 'web', desired: 3, available: 2 }, { namespace: 'd', deployment: 'one', desired: 1, available: 0 }]);
    assert.deepEqual(s.restarts, [{ namespace: 'd', pod: 'p', container: 'init', value: 1 }, { namespace: 'd', pod: 'p', container: 'app', value: 4 }]);
  });
});

describe('etcd member metrics', () => {
  it('memberSamples: quorum needs more than half of the voting members healthy; learners do not vote', () => {
    assert.equal(memberSamples([member('a', { isLeader: true }), member('b'), member('c', { healthy: false })]).hasQuorum, 1);
    assert.equal(memberSamples([member('a', { isLeader: true }), member('b', { healthy: false }), member('c', { healthy: false })]).hasQuorum, 0);
    assert.equal(memberSamples([member('a'), member('b', { healthy: false }), member('l', { isLearner: true })]).hasQuorum, 0);
    assert.equal(memberSamples([member('a'), member('b', { healthy: false }), member('l', { isLearner: true })]).voting, 2);
    assert.equal(memberSamples([]).hasQuorum, 0);
  });

  it('serves health, leader, lag, quorum, and counts leader changes between scrapes', async () => {
    let statuses = [member('a', { isLeader: true, lag: 0 }), member('b', { lag: 7 }), member('c', { healthy: false })];
    let fail = false;
    const r = new Registry();
    registerMemberMetrics(r, { ownName: 'a', statuses: async () => { if (fail) throw new Error('no quorum'); return statuses; }, remove: async () => undefined });
    assert.deepEqual(await values(r, 'trireme_etcd_member_healthy'), [[{ member: 'a' }, 1], [{ member: 'b' }, 1], [{ member: 'c' }, 0]]);
    assert.deepEqual(await values(r, 'trireme_etcd_member_raft_lag'), [[{ member: 'a' }, 0], [{ member: 'b' }, 7]]);
    assert.deepEqual(await values(r, 'trireme_etcd_member_is_leader'), [[{ member: 'a' }, 1], [{ member: 'b' }, 0], [{ member: 'c' }, 0]]);
    assert.deepEqual(await values(r, 'trireme_etcd_has_quorum'), [[{}, 1]]);
    assert.deepEqual(await values(r, 'trireme_etcd_leader_changes_total'), [[{}, 0]]);
    statuses = [member('a'), member('b', { isLeader: true }), member('c', { healthy: false })];
    assert.deepEqual(await values(r, 'trireme_etcd_leader_changes_total'), [[{}, 1]]);
    fail = true;
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(await values(r, 'trireme_etcd_has_quorum'), [[{}, 0]]);
    assert.deepEqual(await values(r, 'trireme_etcd_member_healthy'), []);
  });
});

describe('certificate expiry', () => {
  it('is each certificate\'s notAfter in Unix seconds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trireme-certexp-'));
    try {
      const pki = await ensurePki(dir, { sans: ['127.0.0.1'] });
      const r = new Registry();
      registerCertificateMetrics(r, () => ({ ca: pki.caCertPem, serving: pki.serverCertPem }));
      const got = await values(r, 'trireme_certificate_expiry_timestamp_seconds');
      assert.deepEqual(got.map(([l]) => l.certificate), ['ca', 'serving']);
      for (const [l, v] of got) {
        const pem = l.certificate === 'ca' ? pki.caCertPem : pki.serverCertPem;
        assert.equal(v, Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000));
        assert.ok(v > Date.now() / 1000 + 30 * 86400, 'a fresh certificate is valid for more than 30 days');
      }
      assert.equal(expirySeconds(pki.caCertPem), got[0]![1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
