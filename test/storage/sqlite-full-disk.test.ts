// SqliteStore on a disk that fills up: on a small tmpfs the test fills, readiness turns false
// naming the free space; writes fail with InsufficientStorage a whole group-commit batch at a
// time (nothing of a failed batch is stored, seen by a watcher or given a revision); once the
// space is back the store's own probe makes it ready again and writes succeed, without a
// reopen; every acknowledged write is intact, also after reopening the file.
// Needs root (mount); under CI=true a missing capability fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isTriremeError } from '../../src/errors.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { StoreEvent } from '../../src/storage/store.js';
import { pollUntil } from '../../src/util/poll.js';
import { requireCapability } from '../helpers/require-dep.js';
import { mountTmpfs, tmpfsUnavailable } from '../helpers/tmpfs.js';

const MiB = 1024 * 1024;
const value = (key: string): string => JSON.stringify({ key, pad: 'v'.repeat(1500) });

test('a full disk: not ready, whole batches refused with InsufficientStorage, recovery without reopening', { timeout: 60_000 }, async (t) => {
  if (!requireCapability(t, await tmpfsUnavailable())) return;
  const fs = await mountTmpfs(48 * MiB);
  const path = join(fs.dir, 'store.db');
  let store: SqliteStore | undefined = SqliteStore.open(path, { minFreeBytes: 16 * MiB, probeIntervalMs: 200 });
  try {
    const s = store;
    const acked = new Map<string, number>();
    await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const key = `/full/before-${i}`;
      acked.set(key, (await s.create(key, value(key))).modRevision);
    }));
    const healthy = await s.readiness();
    assert.equal(healthy.ok, true, healthy.message);

    const events: StoreEvent[] = [];
    const watch = s.watch('/full/', await s.currentRevision(), { onEvent: (ev) => events.push(ev), onError: (err) => assert.fail(err) });

    fs.fill();
    assert.equal(fs.freeBytes(), 0);
    const full = await s.readiness();
    assert.equal(full.ok, false);
    assert.match(full.message, /0 B free in .* below the 16\.0 MiB the store keeps in reserve/);

    // Batches of 25 concurrent creates (one group commit each) until one is refused. Space the
    // WAL already holds may let the first batches through.
    let failed: { keys: string[]; errors: unknown[] } | undefined;
    for (let b = 0; b < 400 && !failed; b++) {
      const keys = Array.from({ length: 25 }, (_, i) => `/full/b${b}-${i}`);
      const results = await Promise.allSettled(keys.map((k) => s.create(k, value(k))));
      const ok = results.filter((r) => r.status === 'fulfilled');
      // All or nothing: a batch never half-commits.
      assert.ok(ok.length === 0 || ok.length === keys.length, `batch ${b}: ${ok.length} of ${keys.length} acknowledged`);
      if (ok.length === 0) failed = { keys, errors: results.map((r) => (r as PromiseRejectedResult).reason) };
      else results.forEach((r, i) => acked.set(keys[i]!, (r as PromiseFulfilledResult<{ modRevision: number }>).value.modRevision));
    }
    assert.ok(failed, 'no write failed on a full disk');
    t.diagnostic(`${acked.size - 100} writes were acknowledged on the full disk before a batch failed`);
    for (const err of failed.errors) {
      assert.ok(isTriremeError(err, 'InsufficientStorage'), `expected InsufficientStorage, got ${String(err)}`);
      assert.match((err as Error).message, /disk is full, nothing was written/);
    }
    const lastAcked = Math.max(...acked.values());
    assert.equal(await s.currentRevision(), lastAcked, 'a failed batch used up revisions');
    for (const k of failed.keys) assert.equal(await s.get(k), undefined, `${k} of a failed batch is stored`);
    const sick = await s.readiness();
    assert.equal(sick.ok, false);
    assert.match(sick.message, /last write failed .*disk is full/);

    // The watcher got exactly the acknowledged writes made after it started, nothing of the failed batch.
    await pollUntil('the watcher to catch up', () => events.length === acked.size - 100, { timeoutMs: 5_000 });
    assert.ok(events.every((ev) => ev.type === 'put' && acked.get(ev.kv.key) === ev.kv.modRevision));

    fs.release();
    const started = Date.now();
    const ready = await pollUntil('the store to be ready again', async () => {
      const r = await s.readiness();
      return r.ok ? r : undefined;
    }, { timeoutMs: 10_000, everyMs: 100 });
    t.diagnostic(`ready again ${Date.now() - started} ms after the space came back: ${ready.message}`);
    for (const k of failed.keys) acked.set(k, (await s.create(k, value(k))).modRevision);
    watch.cancel();
    await s.close();
    store = undefined;

    store = SqliteStore.open(path);
    const items = new Map((await store.list('/full/')).items.map((kv) => [kv.key, kv]));
    assert.equal(items.size, acked.size);
    for (const [key, rev] of acked) {
      assert.equal(items.get(key)?.value, value(key), `${key} lost or damaged`);
      assert.equal(items.get(key)?.modRevision, rev);
    }
  } finally {
    await store?.close();
    await fs.unmount();
  }
});
