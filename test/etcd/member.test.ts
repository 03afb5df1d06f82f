import assert from 'node:assert/strict';
import { stat, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ensurePki } from '../../src/apiserver/pki.js';
import { probeMember } from '../../src/etcd/health.js';
import { EtcdStore } from '../../src/storage/etcd.js';
import { etcdPaths, loadMemberConfig } from '../../src/etcd/paths.js';
import { pollUntil } from '../../src/util/poll.js';
import { deps, needs } from '../helpers/require-dep.js';
import { firstConfig, Harness } from './harness.js';

describe('managed etcd member', { skip: needs(deps.etcd), timeout: 180_000 }, () => {
  const h = new Harness();
  before(() => h.init());
  after(() => h.cleanup());

  test('one member with TLS: ready, an EtcdStore with tls writes and reads; a restart from member.json alone keeps the data', async () => {
    const m = await h.member('solo', '127.0.1.1');
    for (const f of [m.tls.serverKeyFile, m.tls.peerKeyFile, m.tls.clientKeyFile]) assert.equal((await stat(f)).mode & 0o777, 0o600, f);
    const e = await h.start(m, firstConfig(m));
    await e.ready();
    assert.equal((await readFile(etcdPaths(m.dataDir).pid, 'utf8')).trim(), String(e.pid()));
    const store = EtcdStore.open({ endpoints: [e.clientUrl], tls: e.clientTls });
    try {
      await store.create('/a', 'one');
      assert.equal((await store.get('/a'))?.value, 'one');
    } finally {
      await store.close();
    }
    // After a ready run the config says 'existing': a lost data dir cannot bootstrap an empty cluster.
    assert.equal((await loadMemberConfig(m.dataDir))?.initialClusterState, 'existing');
    await h.stop(e);

    const again = await h.start(m, undefined);
    await again.ready();
    const store2 = EtcdStore.open({ endpoints: [again.clientUrl], tls: again.clientTls });
    try {
      assert.equal((await store2.get('/a'))?.value, 'one');
    } finally {
      await store2.close();
    }
    await h.stop(again);
  });

  test('plain http and a client certificate of another CA are refused', async () => {
    const m = await h.member('m1', '127.0.1.1');
    const e = await h.start(m, firstConfig(m));
    await e.ready();
    await assert.rejects(fetch(`${e.clientUrl.replace('https:', 'http:')}/health`));
    // A client certificate from another CA is refused during the handshake.
    const foreign = await ensurePki(join(h.dirs[0]!, 'foreign-ca'), { sans: [] });
    const cert = await foreign.issueClientCert({ commonName: 'intruder', organizations: [] });
    await assert.rejects(probeMember(e.clientUrl, { caPem: h.ca.caCertPem, certPem: cert.certPem, keyPem: cert.keyPem }));
    assert.equal((await probeMember(e.clientUrl, e.clientTls)).healthy, true);
    await h.stop(e);
  });

  test('the supervisor restarts a member killed with SIGKILL; the data is still there', async () => {
    const m = await h.member('m2', '127.0.1.2');
    const e = await h.start(m, firstConfig(m), { backoff: { initialMs: 100, maxMs: 1_000, factor: 2, stableMs: 60_000 } });
    await e.ready();
    const store = EtcdStore.open({ endpoints: [e.clientUrl], tls: e.clientTls });
    try {
      await store.create('/k', 'v');
      const first = e.pid();
      assert.ok(first !== undefined);
      process.kill(first, 'SIGKILL');
      await pollUntil('a new etcd child', () => e.restarts() >= 1 && e.pid() !== undefined && e.pid() !== first, { timeoutMs: 20_000 });
      await e.ready();
      assert.equal((await store.get('/k'))?.value, 'v');
    } finally {
      await store.close();
    }
    await h.stop(e);
  });
});
