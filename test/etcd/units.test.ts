import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ensurePki } from '../../src/apiserver/pki.js';
import { isTriremeError } from '../../src/errors.js';
import { etcdArgs } from '../../src/etcd/args.js';
import { DEFAULT_BACKOFF, nextRestart } from '../../src/etcd/backoff.js';
import { findLeftovers, isEtcdOnDataDir } from '../../src/etcd/leftover.js';
import { logSaysRemoved } from '../../src/etcd/member.js';
import { initialClusterOf } from '../../src/etcd/membership.js';
import { checkMemberConfig, etcdPaths, loadMemberConfig, saveMemberConfig, type MemberConfig } from '../../src/etcd/paths.js';
import { hexId, planRemoval, type EtcdMemberInfo } from '../../src/etcd/removal-plan.js';
import { ensureEtcdTls } from '../../src/etcd/tls.js';

const member = (id: string, name: string, isLearner = false): EtcdMemberInfo => ({ id, hexId: hexId(id), name, peerUrls: [`https://10.0.0.${id}:2380`], clientUrls: [`https://10.0.0.${id}:2379`], isLearner });
const health = (...healthy: string[]): Map<string, boolean> => new Map(['1', '2', '3', '4', '5'].map((id) => [id, healthy.includes(id)]));

describe('planRemoval', () => {
  const three = [member('1', 'a'), member('2', 'b'), member('3', 'c')];
  const cases: Array<{ what: string; members: EtcdMemberInfo[]; healthy: string[]; target: string; ok: boolean; code?: string }> = [
    { what: 'a dead member of three, two healthy', members: three, healthy: ['1', '2'], target: 'c', ok: true },
    { what: 'a healthy member while another is dead', members: three, healthy: ['1', '2'], target: 'a', ok: false, code: 'Conflict' },
    { what: 'a healthy member of three all healthy', members: three, healthy: ['1', '2', '3'], target: 'b', ok: true },
    { what: 'the last member', members: [member('1', 'a')], healthy: ['1'], target: 'a', ok: false, code: 'Conflict' },
    { what: 'an unknown target', members: three, healthy: ['1', '2', '3'], target: 'zz', ok: false, code: 'NotFound' },
    { what: 'by hex id', members: [member('1', 'a'), member('255', 'b'), member('3', 'c')], healthy: ['1', '3'], target: 'ff', ok: true },
    { what: 'by decimal id', members: three, healthy: ['1', '2'], target: '3', ok: true },
    { what: 'a learner (never counts for quorum)', members: [member('1', 'a'), member('2', 'b', true)], healthy: ['1'], target: 'b', ok: true },
    { what: 'the voter next to a learner', members: [member('1', 'a'), member('2', 'b', true)], healthy: ['1', '2'], target: 'a', ok: false, code: 'Conflict' },
    { what: 'one of two, the other healthy', members: [member('1', 'a'), member('2', 'b')], healthy: ['1', '2'], target: 'b', ok: true },
    { what: 'the healthy one of two, the other dead', members: [member('1', 'a'), member('2', 'b')], healthy: ['1'], target: 'a', ok: false, code: 'Conflict' },
    { what: 'a dead one of five with two dead (3 of 4 remain healthy)', members: ['1', '2', '3', '4', '5'].map((i) => member(i, `n${i}`)), healthy: ['1', '2', '3'], target: 'n4', ok: true },
    { what: 'a healthy one of five with two dead (2 of 4 remain healthy)', members: ['1', '2', '3', '4', '5'].map((i) => member(i, `n${i}`)), healthy: ['1', '2', '3'], target: 'n1', ok: false, code: 'Conflict' },
    { what: 'a healthy one of five with three dead', members: ['1', '2', '3', '4', '5'].map((i) => member(i, `n${i}`)), healthy: ['1', '2'], target: 'n1', ok: false, code: 'Conflict' },
  ];
  for (const c of cases) {
    test(c.what, () => {
      const plan = planRemoval(c.members, health(...c.healthy), c.target);
      assert.equal(plan.ok, c.ok, JSON.stringify(plan));
      if (!plan.ok) assert.equal(plan.code, c.code);
    });
  }

  test('two members with the same name: Invalid, use the id', () => {
    const plan = planRemoval([member('1', 'a'), member('2', 'a'), member('3', 'c')], health('1', '2', '3'), 'a');
    assert.equal(plan.ok, false);
    if (!plan.ok) assert.equal(plan.code, 'Invalid');
  });
});

test('nextRestart: doubles on quick deaths up to the cap, resets after a stable run', () => {
  let state = { quickDeaths: 0 };
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    const n = nextRestart(state, 0, 100);
    state = n.state;
    delays.push(n.delayMs);
  }
  assert.deepEqual(delays.slice(0, 5), [200, 400, 800, 1600, 3200]);
  assert.equal(delays[9], DEFAULT_BACKOFF.maxMs);
  assert.deepEqual(nextRestart(state, 0, DEFAULT_BACKOFF.stableMs), { state: { quickDeaths: 0 }, delayMs: DEFAULT_BACKOFF.initialMs });
});

const cfg: MemberConfig = { name: 'a', peerUrl: 'https://10.0.0.1:2380', clientUrl: 'https://10.0.0.1:2379', initialCluster: 'a=https://10.0.0.1:2380', initialClusterState: 'new' };

test('etcdArgs: TLS both sides with client-cert auth, timings, progress notify, force-new-cluster only when asked', () => {
  const p = etcdPaths('/d');
  const tls = { caFile: '/t/ca.crt', serverCertFile: '/t/s.crt', serverKeyFile: '/t/s.key', peerCertFile: '/t/p.crt', peerKeyFile: '/t/p.key' };
  const args = etcdArgs(cfg, p, tls);
  for (const a of ['--name=a', '--data-dir=/d/etcd/data', '--listen-client-urls=https://10.0.0.1:2379', '--advertise-client-urls=https://10.0.0.1:2379', '--listen-peer-urls=https://10.0.0.1:2380',
    '--initial-cluster=a=https://10.0.0.1:2380', '--initial-cluster-state=new', '--client-cert-auth', '--peer-client-cert-auth', '--trusted-ca-file=/t/ca.crt', '--peer-trusted-ca-file=/t/ca.crt',
    '--cert-file=/t/s.crt', '--peer-key-file=/t/p.key', '--heartbeat-interval=100', '--election-timeout=1000', '--experimental-watch-progress-notify-interval=500ms']) {
    assert.ok(args.includes(a), a);
  }
  assert.ok(!args.includes('--force-new-cluster'));
  assert.ok(etcdArgs(cfg, p, tls, { forceNewCluster: true, watchProgressNotifyMs: 2000 }).includes('--experimental-watch-progress-notify-interval=2000ms'));
  assert.ok(etcdArgs(cfg, p, tls, { forceNewCluster: true }).includes('--force-new-cluster'));
});

test('member config: round trip through member.json (0600); bad fields named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-etcd-unit-'));
  try {
    assert.equal(await loadMemberConfig(dir), undefined);
    await saveMemberConfig(dir, cfg);
    assert.deepEqual(await loadMemberConfig(dir), cfg);
    assert.equal((await stat(etcdPaths(dir).config)).mode & 0o777, 0o600);
    await writeFile(etcdPaths(dir).config, '{"name":"a"');
    await assert.rejects(loadMemberConfig(dir), (e) => isTriremeError(e, 'Invalid') && /member\.json: not valid JSON/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.throws(() => checkMemberConfig({ ...cfg, peerUrl: 'nope' }), /peerUrl is not a URL/);
  assert.throws(() => checkMemberConfig({ ...cfg, initialClusterState: 'old' }), /initialClusterState/);
  assert.throws(() => checkMemberConfig({ ...cfg, initialCluster: 'a' }), /initialCluster/);
  assert.throws(() => checkMemberConfig({ ...cfg, name: 'a b' }), /name/);
});

test('isEtcdOnDataDir and findLeftovers leave other processes alone', async () => {
  assert.equal(isEtcdOnDataDir(['/usr/bin/etcd', '--name=a', '--data-dir=/x/etcd/data'], '/x/etcd/data'), true);
  assert.equal(isEtcdOnDataDir(['/usr/bin/etcd', '--data-dir', '/x/etcd/data'], '/x/etcd/data'), true);
  assert.equal(isEtcdOnDataDir(['/usr/bin/etcd', '--data-dir=/x/etcd/data2'], '/x/etcd/data'), false);
  assert.equal(isEtcdOnDataDir(['/usr/bin/node', 'etcd', '--data-dir=/x/etcd/data'], '/x/etcd/data'), false);
  const dir = await mkdtemp(join(tmpdir(), 'trireme-etcd-unit-'));
  try {
    const p = etcdPaths(dir);
    await saveMemberConfig(dir, cfg);
    // A pid file naming a live process that is not our etcd (a recycled pid): not a leftover.
    await writeFile(p.pid, `${process.pid}\n`);
    assert.deepEqual(await findLeftovers(p), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('logSaysRemoved matches what etcd 3.4 logs for a removed member, not ordinary lines', () => {
  assert.equal(logSaysRemoved('{"level":"warn","msg":"server error","error":"the member has been permanently removed from the cluster"}'), true);
  assert.equal(logSaysRemoved('{"level":"info","msg":"removed member","removed-remote-peer-id":"8e9e05c52164694d"}'), false);
});

test('initialClusterOf names the new member and stands in for unstarted ones', () => {
  const ms = [member('1', 'a'), member('2', ''), member('3', '')];
  assert.equal(initialClusterOf(ms, '3', 'c'), `a=https://10.0.0.1:2380,unstarted-2=https://10.0.0.2:2380,c=https://10.0.0.3:2380`);
});

test('ensureEtcdTls: usages and SANs; reused when current, reissued when the IP or the CA changes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-etcd-unit-'));
  try {
    const pki = await ensurePki(join(dir, 'ca'), { sans: [] });
    const t = await ensureEtcdTls(dir, pki, { name: 'a', ip: '127.0.1.9' });
    const peer = new X509Certificate(await readFile(t.peerCertFile));
    assert.deepEqual([...(peer.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(peer.subjectAltName, 'IP Address:127.0.1.9, IP Address:127.0.0.1, DNS:localhost');
    assert.ok(peer.checkIssued(new X509Certificate(pki.caCertPem)));
    const client = new X509Certificate(t.client.certPem);
    assert.match(client.subject, /CN=trireme-etcd-client/);
    assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    for (const f of [t.serverKeyFile, t.peerKeyFile, t.clientKeyFile]) assert.equal((await stat(f)).mode & 0o777, 0o600);

    const same = await ensureEtcdTls(dir, pki, { name: 'a', ip: '127.0.1.9' });
    assert.equal((await readFile(same.peerCertFile, 'utf8')).trim(), peer.toString().trim());
    const moved = await ensureEtcdTls(dir, pki, { name: 'a', ip: '127.0.1.10' });
    assert.equal(new X509Certificate(await readFile(moved.peerCertFile)).subjectAltName, 'IP Address:127.0.1.10, IP Address:127.0.0.1, DNS:localhost');
    const other = await ensurePki(join(dir, 'ca2'), { sans: [] });
    const reCa = await ensureEtcdTls(dir, other, { name: 'a', ip: '127.0.1.10' });
    assert.ok(new X509Certificate(await readFile(reCa.serverCertFile)).checkIssued(new X509Certificate(other.caCertPem)));
    assert.equal(await readFile(reCa.caFile, 'utf8'), other.caCertPem);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
