// `trireme server --etcd-endpoints`: the cluster's state lives in a real etcd instead of SQLite.
// kubectl writes through the server, the keys are in etcd under the given prefix, and a
// restarted server (same etcd, same data dir for its certificates) still has every object.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdStore } from '../../src/storage/etcd.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';
import { killAll, startServer, type ServerHandle } from './harness.js';

const HOST = '127.0.0.44';

describe('a server on an external etcd', { skip: needs(deps.etcd, deps.kubectl), timeout: 120_000 }, () => {
  let etcd: EtcdProcess;
  let server: ServerHandle;
  let root = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-e2e-etcd-'));
    etcd = await EtcdProcess.onFreePorts(join(root, 'etcd'));
    await etcd.start();
    server = await startServer({ host: HOST, extraArgs: ['--etcd-endpoints', etcd.endpoint, '--etcd-prefix', '/e2e'] });
  });

  after(async () => {
    try {
      await server?.dispose();
    } finally {
      killAll();
      await etcd?.kill();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('stores objects in etcd and keeps them across a server restart', async () => {
    const made = await server.kubectl(['create', 'namespace', 'on-etcd']);
    assert.equal(made.code, 0, made.stderr);
    const cm = await server.kubectl(['create', 'configmap', 'c', '-n', 'on-etcd', '--from-literal=a=b']);
    assert.equal(cm.code, 0, cm.stderr);

    const store = EtcdStore.open({ endpoints: [etcd.endpoint], prefix: '/e2e' });
    try {
      const keys = (await store.list('/registry/configmaps/on-etcd/')).items.map((kv) => kv.key);
      assert.deepEqual(keys, ['/registry/configmaps/on-etcd/c']);
    } finally {
      await store.close();
    }

    await server.restart();
    const got = await server.kubectl(['get', 'configmap', 'c', '-n', 'on-etcd', '-o', 'jsonpath={.data.a}']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, 'b');
  });
});
