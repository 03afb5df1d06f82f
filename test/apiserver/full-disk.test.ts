// The real API server (in process, over HTTPS) on a data directory whose disk fills up: /readyz
// turns false within a few seconds and ?verbose names the store and the cause; a write answers
// 507 with a Status saying the disk is full and stores nothing; once the space is back /readyz
// is green again and writes succeed, without a restart; every object acknowledged before is
// intact. Needs root (mount); under CI=true a missing capability fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startApiServer } from '../../src/apiserver/server.js';
import { ApiClient } from '../../src/client/api-client.js';
import { loadKubeconfig } from '../../src/client/config.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';
import { openStore } from '../../src/storage/open.js';
import { silentLogger } from '../../src/util/log.js';
import { pollUntil } from '../../src/util/poll.js';
import { requireCapability } from '../helpers/require-dep.js';
import { mountTmpfs, tmpfsUnavailable } from '../helpers/tmpfs.js';
import { getText } from '../helpers/https-text.js';

const MiB = 1024 * 1024;
type CM = ConfigMap & { [k: string]: unknown };
const configmaps = resource('', 'configmaps');
const cm = (name: string): CM => ({ metadata: { name }, data: { name, pad: 'x'.repeat(2000) } });


test('full disk: readyz false, writes 507 with nothing stored, recovery without restart', { timeout: 90_000 }, async (t) => {
  if (!requireCapability(t, await tmpfsUnavailable())) return;
  const fs = await mountTmpfs(64 * MiB);
  let stop: (() => Promise<void>) | undefined;
  let client: ApiClient | undefined;
  try {
    const store = openStore({ backend: 'sqlite', dataDir: fs.dir });
    const server = await startApiServer({ dataDir: fs.dir, store, bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1', tlsSans: [], logger: silentLogger });
    stop = () => server.stop();
    const c = new ApiClient(loadKubeconfig(server.kubeconfigPath));
    client = c;
    const readyz = () => getText(`${server.url}/readyz?verbose`, server.pki.caCertPem);

    const acked: string[] = [];
    for (let i = 0; i < 30; i++) {
      await c.create<CM>(configmaps, 'default', cm(`before-${i}`));
      acked.push(`before-${i}`);
    }
    const green = await readyz();
    assert.equal(green.status, 200, green.text);
    assert.match(green.text, /^\[\+\]store ok$/m);

    fs.fill();
    const filled = Date.now();
    const red = await pollUntil('readyz to fail', async () => {
      const r = await readyz();
      return r.status !== 200 ? r : undefined;
    }, { timeoutMs: 5_000, everyMs: 100 });
    t.diagnostic(`readyz failed ${Date.now() - filled} ms after the disk filled`);
    assert.equal(red.status, 500);
    assert.match(red.text, /^\[-\]store failed: sqlite: .*0 B free in .*below the 32\.0 MiB the store keeps in reserve/m);
    assert.match(red.text, /readyz check failed/);

    // Writes until one is refused (space the WAL already holds may take a few).
    let refused: { name: string; err: unknown } | undefined;
    for (let i = 0; i < 500 && !refused; i++) {
      const name = `during-${i}`;
      try {
        await c.create<CM>(configmaps, 'default', cm(name));
        acked.push(name);
      } catch (err) {
        refused = { name, err };
      }
    }
    assert.ok(refused, 'no write was refused on a full disk');
    t.diagnostic(`${acked.length - 30} creates were acknowledged on the full disk before one was refused`);
    const err = refused.err;
    assert.ok(isTriremeError(err), String(err));
    const status = err.context.status as { kind?: string; code?: number; reason?: string; message?: string };
    assert.equal(err.context.httpCode, 507, `expected 507, got ${String(err.context.httpCode)}: ${err.message}`);
    assert.equal(status.kind, 'Status');
    assert.equal(status.code, 507);
    assert.equal(status.reason, 'InsufficientStorage');
    assert.match(status.message ?? '', /the store's disk is full, nothing was written/);
    await assert.rejects(c.get(configmaps, 'default', refused.name), (e: unknown) => isTriremeError(e, 'NotFound'));
    const sick = await readyz();
    assert.match(sick.text, /^\[-\]store failed: .*last write failed .*disk is full/m);

    fs.release();
    const released = Date.now();
    await pollUntil('readyz to pass again', async () => (await readyz()).status === 200, { timeoutMs: 10_000, everyMs: 100 });
    t.diagnostic(`readyz passed ${Date.now() - released} ms after the space came back`);
    await c.create<CM>(configmaps, 'default', cm(refused.name));
    acked.push(refused.name);

    const list = await c.list<CM>(configmaps, 'default');
    assert.deepEqual(list.items.map((o) => o.metadata?.name).sort(), [...acked].sort());
    for (const name of acked) {
      const got = await c.get<CM>(configmaps, 'default', name);
      assert.deepEqual(got.data, cm(name).data, `${name} damaged`);
    }
  } finally {
    client?.close();
    await stop?.();
    await fs.unmount();
  }
});
