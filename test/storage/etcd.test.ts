// EtcdStore: the shared Store conformance suite against a real single-member etcd (started here
// on free loopback ports in a temporary data dir), plus survival of an etcd restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isTriremeError } from '../../src/errors.js';
import { EtcdStore, bytePrefixEnd } from '../../src/storage/etcd.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { WatchRecorder, eventRevision, runStoreConformance } from './conformance.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';

// etcd from PATH; under CI=true a missing etcd fails this file naming it (test/helpers/require-dep.ts).
describe('EtcdStore on a real etcd', { skip: needs(deps.etcd) }, () => {
  let etcd: EtcdProcess | undefined;
  let root = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-etcd-'));
    etcd = await EtcdProcess.onFreePorts(join(root, 'data'));
    await etcd.start();
  });

  after(async () => {
    await etcd?.kill();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const endpoints = (): string[] => [etcd?.endpoint ?? 'http://127.0.0.1:1'];

  runStoreConformance('etcd', async () => {
    const opened: Store[] = [EtcdStore.open({ endpoints: endpoints() })];
    return {
      store: opened[0] as Store,
      reopen: async () => {
        const s = EtcdStore.open({ endpoints: endpoints() });
        opened.push(s);
        return s;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
      },
    };
  });

  describe('EtcdStore specifics', () => {
    test('bytePrefixEnd gives the least byte string above every key with the prefix', () => {
      assert.deepEqual(bytePrefixEnd(Buffer.from('/a/')), Buffer.from('/a0'));
      assert.deepEqual(bytePrefixEnd(Buffer.from([0x61, 0xff, 0xff])), Buffer.from([0x62]));
      assert.deepEqual(bytePrefixEnd(Buffer.from([])), Buffer.from([0]));
      assert.deepEqual(bytePrefixEnd(Buffer.from([0xff])), Buffer.from([0]));
    });

    test('the key prefix namespaces keys: callers never see it, other namespaces are invisible', async () => {
      const ns = `/ns-${randomBytes(4).toString('hex')}`;
      const a = openStore({ backend: 'etcd', endpoints: endpoints(), prefix: `${ns}/a` });
      const b = openStore({ backend: 'etcd', endpoints: endpoints(), prefix: `${ns}/b` });
      const raw = EtcdStore.open({ endpoints: endpoints() });
      try {
        const w = new WatchRecorder(a, '/', await a.currentRevision());
        const kv = await a.create('/k', 'in-a');
        await b.create('/k', 'in-b');
        assert.deepEqual((await a.list('/')).items, [kv]);
        assert.equal((await b.get('/k'))?.value, 'in-b');
        assert.deepEqual((await raw.list(`${ns}/`)).items.map((x) => x.key), [`${ns}/a/k`, `${ns}/b/k`]);
        const evs = await w.waitForEvents(1);
        assert.deepEqual(evs, [{ type: 'put', kv }]);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(w.events.length, 1);
        w.cancel();
      } finally {
        await Promise.all([a.close(), b.close(), raw.close()]);
      }
    });

    test('list pages through many keys as one snapshot', async () => {
      const s = EtcdStore.open({ endpoints: endpoints(), prefix: `/page-${randomBytes(4).toString('hex')}` });
      try {
        await Promise.all(Array.from({ length: 1_234 }, (_, i) => s.create(`/k/${String(i).padStart(5, '0')}`, `${i}`)));
        const l = await s.list('/k/');
        assert.equal(l.items.length, 1_234);
        assert.deepEqual(l.items.map((kv) => kv.value), Array.from({ length: 1_234 }, (_, i) => `${i}`));
        assert.equal(l.revision, await s.currentRevision());
      } finally {
        await s.close();
      }
    });

    test('compaction by another client: compactRevision finds it, an old watch ends with Gone', async () => {
      const prefix = `/gone-${randomBytes(4).toString('hex')}`;
      const a = EtcdStore.open({ endpoints: endpoints(), prefix });
      const b = EtcdStore.open({ endpoints: endpoints(), prefix });
      try {
        const start = await a.currentRevision();
        await a.create('/x', '1');
        const u = await a.update('/x', '2');
        await b.compact(u.modRevision - 1);
        assert.equal(await a.compactRevision(), u.modRevision - 1);
        const old = new WatchRecorder(a, '/', start);
        const err = await old.waitForError();
        assert.ok(isTriremeError(err, 'Gone'), String(err));
        assert.equal(err.context.compactRevision, u.modRevision - 1);
        const ok = new WatchRecorder(a, '/', u.modRevision - 1);
        assert.deepEqual((await ok.waitForEvents(1)).map(eventRevision), [u.modRevision]);
        ok.cancel();
        await assert.rejects(a.compact(u.modRevision + 1_000_000), (e) => isTriremeError(e, 'BadRequest'));
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('close ends open watches with StoreClosed; a throwing handler ends only its own watch', async () => {
      const s = EtcdStore.open({ endpoints: endpoints(), prefix: `/close-${randomBytes(4).toString('hex')}` });
      const errors: Error[] = [];
      s.watch('/', await s.currentRevision(), {
        onEvent: () => {
          throw new Error('boom');
        },
        onError: (e) => errors.push(e),
      });
      const good = new WatchRecorder(s, '/', await s.currentRevision());
      await s.create('/1', 'x');
      await s.create('/2', 'x');
      await good.waitForEvents(2);
      assert.deepEqual(errors.map((e) => e.message), ['boom']);
      await s.close();
      assert.ok(isTriremeError(await good.waitForError(), 'StoreClosed'));
      const late = new WatchRecorder(s, '/', 0);
      assert.ok(isTriremeError(await late.waitForError(), 'StoreClosed'));
      await assert.rejects(s.get('/1'), (e) => isTriremeError(e, 'StoreClosed'));
    });

    test('data and watches survive an etcd restart', async () => {
      assert.ok(etcd);
      const s = EtcdStore.open({ endpoints: endpoints(), prefix: `/restart-${randomBytes(4).toString('hex')}` });
      try {
        const kept = await s.create('/kept', 'v1');
        const w = new WatchRecorder(s, '/', kept.modRevision);
        await etcd.kill();
        await etcd.start();
        assert.deepEqual(await s.get('/kept'), kept);
        const u = await s.update('/kept', 'v2', kept.modRevision);
        assert.ok(u.modRevision > kept.modRevision);
        const evs = await w.waitForEvents(1, 15_000);
        assert.deepEqual(evs.map(eventRevision), [u.modRevision]);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(w.events.length, 1, 'no duplicates after the watch resumed');
        assert.equal(w.error, undefined);
        w.cancel();
      } finally {
        await s.close();
      }
    });
  });
});
