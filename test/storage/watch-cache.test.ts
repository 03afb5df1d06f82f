// WatchCache against a real SqliteStore in a temp dir: list/get, waitFor, watch replay and
// live, Gone, isolation of a throwing watcher, relist after the store watch fails, fan-out.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTriremeError } from '../../src/errors.js';
import { FakeClock } from '../../src/util/clock.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { KeyValue, ListResult, Store, StoreWatch, WatchHandler } from '../../src/storage/store.js';
import { WatchCache, type CacheEvent } from '../../src/storage/watch-cache.js';

const P = '/registry/pods/';

interface Pod {
  name: string;
  n: number;
}

const decode = (kv: KeyValue): Pod => JSON.parse(kv.value) as Pod;
const pod = (name: string, n = 0): string => JSON.stringify({ name, n });

/** Delegates to a real store, and can break the watches it handed out (fault injection). */
class FlakyStore implements Store {
  private readonly live = new Set<{ inner: StoreWatch; handler: WatchHandler }>();
  watchCalls = 0;
  constructor(private readonly inner: Store) {}
  get(key: string) { return this.inner.get(key); }
  list(prefix: string): Promise<ListResult> { return this.inner.list(prefix); }
  create(key: string, value: string) { return this.inner.create(key, value); }
  update(key: string, value: string, rev?: number) { return this.inner.update(key, value, rev); }
  delete(key: string, rev?: number) { return this.inner.delete(key, rev); }
  currentRevision() { return this.inner.currentRevision(); }
  compact(rev: number) { return this.inner.compact(rev); }
  compactRevision() { return this.inner.compactRevision(); }
  readiness() { return this.inner.readiness(); }
  close() { return this.inner.close(); }
  watch(prefix: string, after: number, handler: WatchHandler): StoreWatch {
    this.watchCalls++;
    const entry = { inner: this.inner.watch(prefix, after, handler), handler };
    this.live.add(entry);
    return { cancel: () => { entry.inner.cancel(); this.live.delete(entry); } };
  }
  /** Reports progress to every open watch, as etcd's progress notifications do. */
  progress(revision: number): void {
    for (const e of this.live) e.handler.onProgress?.(revision);
  }
  /** Ends every open watch with `err`, as a broken connection would. */
  breakWatches(err: Error): void {
    for (const e of this.live) {
      e.inner.cancel();
      e.handler.onError(err);
    }
    this.live.clear();
  }
}

function recorder(): { events: CacheEvent<Pod>[]; handler: (ev: CacheEvent<Pod>) => void; summary: () => string[] } {
  const events: CacheEvent<Pod>[] = [];
  return {
    events,
    handler: (ev) => events.push(ev),
    summary: () => events.map((e) => `${e.type} ${e.item.key.slice(P.length)} ${e.item.value.n}`),
  };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('WatchCache', () => {
  let dir: string;
  let store: SqliteStore;
  const caches: WatchCache<Pod>[] = [];

  function cache(s: Store = store, opts: ConstructorParameters<typeof WatchCache<Pod>>[3] = {}): WatchCache<Pod> {
    const c = new WatchCache<Pod>(s, P, decode, opts);
    caches.push(c);
    return c;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trireme-wc-'));
    store = SqliteStore.open(join(dir, 'store.db'));
  });

  afterEach(async () => {
    for (const c of caches.splice(0)) c.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('start lists the prefix; list is sorted, narrows by prefix, and get finds items', async () => {
    await store.create(`${P}ns2/c`, pod('c'));
    await store.create(`${P}ns1/b`, pod('b'));
    await store.create(`${P}ns1/a`, pod('a'));
    await store.create('/registry/services/ns1/x', pod('x'));
    const c = cache();
    await c.start();
    assert.equal(c.revision, await store.currentRevision());
    const all = c.list();
    assert.deepEqual(all.items.map((i) => i.value.name), ['a', 'b', 'c']);
    assert.equal(all.revision, c.revision);
    assert.deepEqual(c.list(`${P}ns1/`).items.map((i) => i.key), [`${P}ns1/a`, `${P}ns1/b`]);
    assert.deepEqual(c.list(`${P}ns3/`).items, []);
    const b = c.get(`${P}ns1/b`);
    assert.equal(b?.value.name, 'b');
    assert.equal(b?.createRevision, 2);
    assert.equal(b?.modRevision, 2);
    assert.equal(c.get('/registry/services/ns1/x'), undefined);
  });

  test('waitFor: after a write, the next list sees it; an unreachable revision times out', async () => {
    const c = cache();
    await c.start();
    const kv = await store.create(`${P}ns/a`, pod('a', 1));
    await c.waitFor(kv.modRevision, 2000);
    assert.equal(c.list().items[0]?.value.n, 1);
    const u = await store.update(`${P}ns/a`, pod('a', 2));
    await c.waitFor(u.modRevision, 2000);
    assert.equal(c.get(`${P}ns/a`)?.value.n, 2);
    assert.equal(c.get(`${P}ns/a`)?.modRevision, u.modRevision);
    const d = await store.delete(`${P}ns/a`);
    await c.waitFor(d.revision, 2000);
    assert.equal(c.list().items.length, 0);
    await c.waitFor(1, 10); // already applied: resolves at once
    const other = await store.create('/registry/services/s', pod('s'));
    await assert.rejects(c.waitFor(other.modRevision, 50), (e) => isTriremeError(e, 'Timeout'));
  });

  test('a progress notification advances an idle cache: waits for other prefixes\' revisions resolve, watches from it work', async () => {
    const flaky = new FlakyStore(store);
    const c = cache(flaky);
    await c.start();
    await store.create(`${P}ns/a`, pod('a', 1));
    await until(() => c.list().items.length === 1);
    const other = await store.create('/registry/services/s', pod('s'));
    assert.ok(c.revision < other.modRevision, 'a write under another prefix does not reach this cache');
    const waiting = c.waitFor(other.modRevision, 5000);
    flaky.progress(other.modRevision - 1); // not far enough yet
    assert.equal(c.revision, other.modRevision - 1);
    flaky.progress(other.modRevision);
    await waiting;
    assert.equal(c.revision, other.modRevision);
    assert.equal(c.list().revision, other.modRevision);
    flaky.progress(other.modRevision - 5); // revisions never go back
    assert.equal(c.revision, other.modRevision);
    // A watch from the progress revision gets the next change, and only that.
    const rec = recorder();
    c.watch(c.revision, P, rec.handler);
    await store.update(`${P}ns/a`, pod('a', 2));
    await until(() => rec.events.length === 1);
    assert.deepEqual(rec.summary(), ['MODIFIED ns/a 2']);
  });

  test('watch replays buffered events after a revision, then live ones, with prev values', async () => {
    const c = cache();
    await c.start();
    const start = c.revision;
    const a = await store.create(`${P}ns/a`, pod('a', 1));
    await store.update(`${P}ns/a`, pod('a', 2));
    const d = await store.delete(`${P}ns/a`);
    await c.waitFor(d.revision, 2000);
    const r = recorder();
    const w = c.watch(start, P, r.handler);
    await until(() => r.events.length === 3);
    assert.deepEqual(r.summary(), ['ADDED ns/a 1', 'MODIFIED ns/a 2', 'DELETED ns/a 2']);
    assert.equal(r.events[1]?.prev?.value.n, 1);
    const del = r.events[2] as CacheEvent<Pod>;
    assert.equal(del.revision, d.revision);
    assert.equal(del.item.modRevision, d.revision);
    assert.equal(del.item.createRevision, a.createRevision);
    assert.equal(del.prev?.modRevision, a.modRevision + 1);
    const b = await store.create(`${P}ns/b`, pod('b'));
    await until(() => r.events.length === 4);
    assert.equal(r.events[3]?.revision, b.modRevision);
    // From a later revision only later events; exactly once.
    const r2 = recorder();
    const w2 = c.watch(a.modRevision, P, r2.handler);
    await until(() => r2.events.length === 3);
    assert.deepEqual(r2.summary(), ['MODIFIED ns/a 2', 'DELETED ns/a 2', 'ADDED ns/b 0']);
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(r.events.length, 4);
    assert.equal(r2.events.length, 3);
    w.cancel();
    w2.cancel();
  });

  test('watch narrows by prefix (a namespace)', async () => {
    const c = cache();
    await c.start();
    const r = recorder();
    const w = c.watch(c.revision, `${P}ns1/`, r.handler);
    await store.create(`${P}ns2/x`, pod('x'));
    await store.create(`${P}ns1/y`, pod('y'));
    await store.create(`${P}ns10/z`, pod('z'));
    const last = await store.create(`${P}ns1/z`, pod('z'));
    await c.waitFor(last.modRevision, 2000);
    await until(() => r.events.length === 2);
    assert.deepEqual(r.summary(), ['ADDED ns1/y 0', 'ADDED ns1/z 0']);
    w.cancel();
  });

  test('watch from a revision older than the history buffer throws Gone', async () => {
    const c = cache(store, { historySize: 3 });
    await c.start();
    const start = c.revision;
    const revs: number[] = [];
    for (let i = 0; i < 10; i++) revs.push((await store.create(`${P}ns/${i}`, pod(`${i}`))).modRevision);
    await c.waitFor(revs[9] as number, 2000);
    assert.throws(() => c.watch(start, P, () => undefined), (e) => isTriremeError(e, 'Gone') && e.context.compactRevision === revs[6]);
    assert.throws(() => c.watch((revs[6] as number) - 1, P, () => undefined), (e) => isTriremeError(e, 'Gone'));
    const r = recorder();
    const w = c.watch(revs[6] as number, P, r.handler);
    await until(() => r.events.length === 3);
    assert.deepEqual(r.events.map((e) => e.revision), revs.slice(7));
    w.cancel();
  });

  test('a watcher that throws does not break the others', async () => {
    const c = cache();
    await c.start();
    const bad = c.watch(c.revision, P, () => {
      throw new Error('boom');
    });
    const r = recorder();
    const good = c.watch(c.revision, P, r.handler);
    await store.create(`${P}ns/a`, pod('a'));
    await store.create(`${P}ns/b`, pod('b'));
    await until(() => r.events.length === 2);
    assert.equal(c.list().items.length, 2);
    bad.cancel();
    good.cancel();
  });

  test('when the store watch fails, the cache relists, emits the difference, and follows again', async () => {
    const clock = new FakeClock();
    const flaky = new FlakyStore(store);
    await store.create(`${P}ns/keep`, pod('keep'));
    await store.create(`${P}ns/change`, pod('change', 1));
    await store.create(`${P}ns/drop`, pod('drop'));
    const c = cache(flaky, { clock });
    await c.start();
    const r = recorder();
    c.watch(c.revision, P, r.handler);
    flaky.breakWatches(new Error('connection lost'));
    // Changes the cache cannot see while its watch is down.
    await store.update(`${P}ns/change`, pod('change', 2));
    await store.delete(`${P}ns/drop`);
    await store.create(`${P}ns/new`, pod('new'));
    const missed = await store.currentRevision();
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(r.events.length, 0);
    assert.ok(c.revision < missed);
    const reached = c.waitFor(missed, 10_000);
    clock.advance(100); // the relist back-off
    await reached;
    assert.equal(flaky.watchCalls, 2);
    assert.deepEqual(c.list().items.map((i) => `${i.value.name} ${i.value.n}`), ['change 2', 'keep 0', 'new 0']);
    assert.deepEqual(r.summary().sort(), ['ADDED ns/new 0', 'DELETED ns/drop 0', 'MODIFIED ns/change 2']);
    const revs = r.events.map((e) => e.revision);
    assert.deepEqual(revs, [...revs].sort((x, y) => x - y));
    // And it follows the store again.
    const live = await store.create(`${P}ns/after`, pod('after'));
    await c.waitFor(live.modRevision, 2000);
    await until(() => r.events.length === 4);
    assert.equal(r.events[3]?.item.key, `${P}ns/after`);
  });

  test('100 watchers all get an event within a few milliseconds', async () => {
    const c = cache();
    await c.start();
    const got: number[] = [];
    const handles = Array.from({ length: 100 }, () => c.watch(c.revision, P, () => got.push(performance.now())));
    await new Promise((res) => setImmediate(res));
    const t0 = performance.now();
    await store.create(`${P}ns/fan`, pod('fan'));
    await until(() => got.length === 100);
    const worst = Math.max(...got) - t0;
    assert.ok(worst < 50, `slowest watcher after ${worst.toFixed(1)} ms`);
    for (const h of handles) h.cancel();
  });

  test('stop rejects pending waits and ends watches', async () => {
    const c = cache();
    await c.start();
    const r = recorder();
    c.watch(c.revision, P, r.handler);
    const pending = c.waitFor(c.revision + 100, 10_000);
    c.stop();
    await assert.rejects(pending, (e) => isTriremeError(e, 'ServiceUnavailable'));
    await store.create(`${P}ns/late`, pod('late'));
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(r.events.length, 0);
  });
});
