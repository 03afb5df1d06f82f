import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pkiPaths } from '../../src/apiserver/pki.js';
import { exitOf, hardKill } from '../../src/launch/children.js';
import { findLeftovers } from '../../src/etcd/leftover.js';
import { etcdPaths, saveMemberConfig } from '../../src/etcd/paths.js';
import { EtcdStore } from '../../src/storage/etcd.js';
import { pollUntil } from '../../src/util/poll.js';
import { deps, needs, pathOf } from '../helpers/require-dep.js';
import { firstConfig, Harness } from './harness.js';

const HOST = join(dirname(fileURLToPath(import.meta.url)), 'member-host.js');

describe('leftover etcd of a killed server', { skip: needs(deps.etcd), timeout: 120_000 }, () => {
  const h = new Harness();
  before(() => h.init());
  after(() => h.cleanup());

  test('a server killed with SIGKILL leaves its etcd running; the next start finds it (pid file, /proc cmdline naming the data dir) and replaces it, data kept', async () => {
    const m = await h.member('host', '127.0.1.4');
    await saveMemberConfig(m.dataDir, firstConfig(m));
    const ca = pkiPaths(join(h.dirs[0]!, 'ca'));
    const server = spawn(process.execPath, ['--import', 'reflect-metadata', HOST, m.dataDir, ca.caCert, ca.caKey, pathOf(deps.etcd), m.ip], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      server.stdout.on('data', (d: Buffer) => (out += d.toString()));
      server.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const oldPid = Number(await pollUntil('the server\'s etcd to be ready', () => /READY (\d+)/.exec(out)?.[1], { timeoutMs: 60_000 }));
      const store = EtcdStore.open({ endpoints: [m.clientUrl], tls: m.tls.client });
      try {
        await store.create('/before', 'kill');
      } finally {
        await store.close();
      }
      hardKill(server, false);
      await exitOf(server);
      // The etcd child outlived its parent.
      assert.ok(existsSync(`/proc/${oldPid}`), 'etcd survives its killed parent');
      assert.deepEqual(await findLeftovers(etcdPaths(m.dataDir)), [oldPid]);

      const e = await h.start(m, undefined);
      assert.ok(!existsSync(`/proc/${oldPid}`) || (await findLeftovers(etcdPaths(m.dataDir))).every((p) => p !== oldPid), 'the leftover was ended');
      await e.ready();
      assert.notEqual(e.pid(), oldPid);
      const store2 = EtcdStore.open({ endpoints: [m.clientUrl], tls: m.tls.client });
      try {
        assert.equal((await store2.get('/before'))?.value, 'kill');
      } finally {
        await store2.close();
      }
      await h.stop(e);
    } finally {
      hardKill(server, false);
    }
  });
});
