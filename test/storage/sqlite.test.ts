// SqliteStore: the shared Store conformance suite, plus what only this backend promises
// (automatic compaction through the clock, one process per file, slow-watcher catch-up).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTriremeError } from '../../src/errors.js';
import { FakeClock } from '../../src/util/clock.js';
import { SqliteStore, prefixEnd, type SqliteStoreOptions } from '../../src/storage/sqlite.js';
import type { Store } from '../../src/storage/store.js';
import { WatchRecorder, eventRevision, runStoreConformance } from './conformance.js';

async function tempStore(opts: SqliteStoreOptions = {}): Promise<{ store: SqliteStore; path: string; reopen: () => Promise<Store>; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-sqlite-'));
  const path = join(dir, 'store.db');
  const opened: SqliteStore[] = [SqliteStore.open(path, opts)];
  return {
    store: opened[0] as SqliteStore,
    path,
    reopen: async () => {
      const s = SqliteStore.open(path, opts);
      opened.push(s);
      return s;
    },
    cleanup: async () => {
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

runStoreConformance('sqlite', () => tempStore());

describe('SqliteStore specifics', () => {
  test('prefixEnd gives the least string above every key with the prefix', () => {
    assert.equal(prefixEnd('/registry/pods/'), '/registry/pods0');
    assert.equal(prefixEnd('a'), 'b');
    assert.equal(prefixEnd(''), undefined);
    assert.equal(prefixEnd('a\u{10FFFF}'), 'b');
    assert.equal(prefixEnd('\u{10FFFF}'), undefined);
    assert.equal(prefixEnd('x\uD7FF'), 'x\uE000');
  });

  test('automatic compaction keeps historyLimit revisions, run by the clock', async () => {
    const clock = new FakeClock();
    const t = await tempStore({ clock, historyLimit: 5, compactIntervalMs: 1000 });
    try {
      const s = t.store;
      for (let i = 0; i < 20; i++) await s.create(`/k/${i}`, 'x');
      assert.equal(await s.compactRevision(), 0, 'not on every write');
      clock.advance(1000);
      await new Promise((r) => setImmediate(r));
      assert.equal(await s.compactRevision(), 15);
      const gone = new WatchRecorder(s, '/k/', 14);
      assert.ok(isTriremeError(await gone.waitForError(), 'Gone'));
      const ok = new WatchRecorder(s, '/k/', 15);
      assert.deepEqual((await ok.waitForEvents(5)).map(eventRevision), [16, 17, 18, 19, 20]);
      ok.cancel();
      assert.equal((await s.list('/k/')).items.length, 20);
    } finally {
      await t.cleanup();
    }
  });

  test('compaction is recorded so that it survives reopen; compacting the future is refused', async () => {
    const t = await tempStore();
    try {
      for (let i = 0; i < 5; i++) await t.store.create(`/c/${i}`, 'x');
      await assert.rejects(t.store.compact(99), (e) => isTriremeError(e, 'BadRequest'));
      await t.store.compact(3);
      await t.store.compact(2); // older than the compact revision: nothing to do
      await t.store.close();
      const again = await t.reopen();
      assert.equal(await again.compactRevision(), 3);
      assert.equal(await again.currentRevision(), 5);
    } finally {
      await t.cleanup();
    }
  });

  test('a second opener of the same file is refused while the first holds it', async () => {
    const t = await tempStore();
    try {
      await t.store.create('/a', 'x');
      assert.throws(() => SqliteStore.open(t.path), (e) => isTriremeError(e, 'Internal'));
      assert.equal((await t.store.get('/a'))?.value, 'x');
    } finally {
      await t.cleanup();
    }
  });

  test('a watcher that falls behind catches up from the log without losing or repeating events', async () => {
    const t = await tempStore({ maxWatcherQueue: 5 });
    try {
      const s = t.store;
      const w = new WatchRecorder(s, '/slow/', await s.currentRevision());
      await new Promise((r) => setImmediate(r)); // let it go live
      // All writes commit before the first delivery turn, overflowing the queue.
      const made = await Promise.all(Array.from({ length: 200 }, (_, i) => s.create(`/slow/${i}`, `${i}`)));
      const evs = await w.waitForEvents(200);
      assert.deepEqual(evs.map(eventRevision), made.map((kv) => kv.modRevision));
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(w.events.length, 200);
      w.cancel();
    } finally {
      await t.cleanup();
    }
  });

  test('events are delivered after the write resolved, never inside it', async () => {
    const t = await tempStore();
    try {
      const s = t.store;
      const seen: string[] = [];
      const w = s.watch('/', await s.currentRevision(), { onEvent: () => seen.push('event'), onError: () => seen.push('error') });
      await new Promise((r) => setImmediate(r));
      const p = s.create('/x', 'y');
      seen.push('returned');
      await p;
      seen.push('resolved');
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, ['returned', 'resolved', 'event']);
      w.cancel();
    } finally {
      await t.cleanup();
    }
  });

  test('a throwing watch handler ends only its own watch, with an error', async () => {
    const t = await tempStore();
    try {
      const s = t.store;
      const errors: Error[] = [];
      const bad = s.watch('/', await s.currentRevision(), {
        onEvent: () => {
          throw new Error('boom');
        },
        onError: (e) => errors.push(e),
      });
      const good = new WatchRecorder(s, '/', await s.currentRevision());
      await s.create('/1', 'x');
      await s.create('/2', 'x');
      await good.waitForEvents(2);
      assert.equal(errors.length, 1);
      good.cancel();
      bad.cancel();
    } finally {
      await t.cleanup();
    }
  });

  test('close ends open watches with StoreClosed; a watch on a closed store fails the same way', async () => {
    const t = await tempStore();
    try {
      const w = new WatchRecorder(t.store, '/', 0);
      await t.store.close();
      assert.ok(isTriremeError(await w.waitForError(), 'StoreClosed'));
      const late = new WatchRecorder(t.store, '/', 0);
      assert.ok(isTriremeError(await late.waitForError(), 'StoreClosed'));
    } finally {
      await t.cleanup();
    }
  });

  test('backup writes a copy that opens as a store with the same data', async () => {
    const t = await tempStore();
    const dest = `${t.path}.backup`;
    try {
      await t.store.create('/b/1', 'one');
      const rev = (await t.store.create('/b/2', 'two')).modRevision;
      await t.store.backup(dest);
      const copy = SqliteStore.open(dest);
      try {
        assert.deepEqual((await copy.list('/b/')).items.map((kv) => kv.value), ['one', 'two']);
        assert.equal(await copy.currentRevision(), rev);
      } finally {
        await copy.close();
      }
    } finally {
      await t.cleanup();
    }
  });
});
