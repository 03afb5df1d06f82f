// Consistent lists across API servers on one real etcd: a write acknowledged by server A is in
// the very next list (no resourceVersion) through server B, for a resource B's cache sees the
// write of and for one whose cache is idle (only etcd's progress notifications, or the fallback
// list from the store, can bring it to the write's revision); with progress notifications off
// (a plain etcd) the fallback alone keeps it consistent. resourceVersion="0" is answered from the
// cache without waiting; resourceVersion=N waits for N; without quorum the cache answers with a
// Warning. Servers bind 127.0.4.x.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../src/api/object.js';
import { resource } from '../../src/client/resources.js';
import { STALE_READ_WARNING } from '../../src/apiserver/registry.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';
import type { Store } from '../../src/storage/store.js';

const CM = resource('', 'configmaps');
const SECRETS = resource('', 'secrets');
const NS = 'default';
const ROUNDS = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { value, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** A GET with the server's admin credentials, answering status, headers and body (for the Warning header). */
function rawGet(server: TestApiServer, path: string): Promise<{ status: number; warning: string | undefined; body: string }> {
  const { config } = server.client;
  const url = new URL(path, config.server);
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: config.caPem, cert: config.certPem, key: config.keyPem, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const w = res.headers.warning;
        resolve({ status: res.statusCode ?? 0, warning: Array.isArray(w) ? w.join(', ') : w, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** The store without its optional `changesSince`, so that the registry must wait (or list the store). */
function withoutProbe(store: Store): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'changesSince') return undefined;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const CONFIGS = [
  { progress: true, probe: false, title: 'progress notifications (500 ms) alone' },
  { progress: false, probe: false, title: 'neither progress notifications nor the probe (fallback list)' },
  { progress: false, probe: true, title: 'the unchanged-prefix probe (default), no progress notifications' },
];

for (const { progress, probe, title } of CONFIGS) {
  describe(`consistent lists across two API servers on etcd: ${title}`, { skip: needs(deps.etcd), timeout: 180_000 }, () => {
    let root = '';
    let etcd: EtcdProcess | undefined;
    let a: TestApiServer | undefined;
    let b: TestApiServer | undefined;
    const quiet = `quiet-${progress ? 'p' : 'n'}${probe ? 'p' : 'n'}`;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'trireme-consistent-'));
      etcd = await EtcdProcess.onFreePorts(join(root, 'etcd'), progress ? ['--experimental-watch-progress-notify-interval=500ms'] : []);
      await etcd.start();
      const etcdSpec = { endpoints: [etcd.endpoint], prefix: `/cr-${randomBytes(4).toString('hex')}` };
      const dataDir = join(root, 'data');
      const wrapStore = probe ? undefined : withoutProbe;
      a = await startTestApiServer('127.0.4.1', { etcd: etcdSpec, dataDir, wrapStore });
      b = await startTestApiServer('127.0.4.2', { etcd: etcdSpec, dataDir, wrapStore });
      await a.client.create({ ...resource('', 'namespaces') }, undefined, { metadata: { name: quiet } });
      for (const name of ['s1', 's2']) await a.client.create(SECRETS, quiet, { metadata: { name }, data: {} } as KubeObject);
    });

    after(async () => {
      try {
        await a?.close();
        await b?.close();
      } finally {
        await etcd?.kill();
        if (root) await rm(root, { recursive: true, force: true });
      }
    });

    test('a write through A is in the next list through B, for a resource B sees and for an idle one', async (t) => {
      assert.ok(a && b);
      const before = { ...b.server.registry.consistentReads };
      const busyMs: number[] = [];
      const idleMs: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const cm = await a.client.create<KubeObject>(CM, NS, { metadata: { name: `cm-${i}` } });
        const written = Number(cm.metadata?.resourceVersion);
        // Same resource: B's configmaps cache gets the event, maybe a moment after the ack.
        const busy = await timed(() => b!.client.list<KubeObject>(CM, NS));
        busyMs.push(busy.ms);
        assert.ok(busy.value.items.some((o) => o.metadata?.name === `cm-${i}`), `round ${i}: B's list lacks cm-${i} written through A`);
        assert.ok(Number(busy.value.resourceVersion) >= written, `round ${i}: list RV ${busy.value.resourceVersion} < write RV ${written}`);
        // Idle resource: nothing writes secrets, B's secrets cache sees no event at all.
        const cm2 = await a.client.create<KubeObject>(CM, NS, { metadata: { name: `cm-${i}-b` } });
        const idle = await timed(() => b!.client.list<KubeObject>(SECRETS, quiet));
        idleMs.push(idle.ms);
        assert.ok(Number(idle.value.resourceVersion) >= Number(cm2.metadata?.resourceVersion), `round ${i}: idle list RV ${idle.value.resourceVersion} is older than an acknowledged write (${cm2.metadata?.resourceVersion})`);
        assert.deepEqual(idle.value.items.map((o) => o.metadata?.name).sort(), ['s1', 's2']);
        // A deletion through A is gone from B's next list.
        await a.client.delete(CM, NS, `cm-${i}-b`);
        const afterDelete = await b.client.list<KubeObject>(CM, NS);
        assert.ok(!afterDelete.items.some((o) => o.metadata?.name === `cm-${i}-b`), `round ${i}: B still lists cm-${i}-b deleted through A`);
      }
      const counts = b.server.registry.consistentReads;
      const delta = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v - before[k as keyof typeof before]])) as unknown as typeof counts;
      t.diagnostic(`B's consistent lists: ${JSON.stringify(delta)}; median ms: same resource ${median(busyMs).toFixed(2)}, idle resource ${median(idleMs).toFixed(2)}`);
      assert.equal(delta.stale, 0);
      if (probe) assert.ok(delta.unchanged >= ROUNDS, 'every idle list was confirmed current by the probe');
      else if (progress) assert.ok(delta.afterWait > 0, 'progress notifications brought the idle cache to the write at least once');
      else assert.ok(delta.fromStore >= ROUNDS, 'without progress notifications the idle cache never reaches the write: every idle list came from the store');
    });

    test('resourceVersion="0" is served from the cache without waiting; resourceVersion=N not older than N', async (t) => {
      assert.ok(a && b);
      const cm = await a.client.create<KubeObject>(CM, NS, { metadata: { name: 'rv-probe' } });
      const written = Number(cm.metadata?.resourceVersion);
      const before = { ...b.server.registry.consistentReads };
      const any = await timed(() => b!.client.list<KubeObject>(SECRETS, quiet, { resourceVersion: '0' }));
      assert.deepEqual(b.server.registry.consistentReads, before, 'RV=0 did not confirm the store revision');
      assert.deepEqual(any.value.items.map((o) => o.metadata?.name).sort(), ['s1', 's2']);
      if (!progress) {
        // The idle cache is still where it was: RV=0 answered from it, older than the write.
        assert.ok(Number(any.value.resourceVersion) < written, `RV=0 list at ${any.value.resourceVersion} is from the idle cache, below ${written}`);
      } else {
        const notOlder = await b.client.list<KubeObject>(SECRETS, quiet, { resourceVersion: String(written) });
        assert.ok(Number(notOlder.resourceVersion) >= written);
      }
      t.diagnostic(`RV=0 list through B: ${any.ms.toFixed(2)} ms`);
    });

    if (probe) {
      test('without quorum, a list is answered from the cache with the stale-read Warning', async () => {
        assert.ok(a && b && etcd);
        await etcd.kill();
        const res = await rawGet(b, `/api/v1/namespaces/${quiet}/secrets`);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.warning, `299 - ${JSON.stringify(STALE_READ_WARNING)}`);
        const body = JSON.parse(res.body) as { items: KubeObject[] };
        assert.deepEqual(body.items.map((o) => o.metadata?.name).sort(), ['s1', 's2']);
        assert.ok(b.server.registry.consistentReads.stale > 0);
      });
    }
  });
}
