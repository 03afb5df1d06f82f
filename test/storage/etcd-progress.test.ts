// What the watch cache learns from etcd besides events: progress notifications reach an idle
// watch's `onProgress` (a member started with --experimental-watch-progress-notify-interval),
// never below an event already delivered; and `changesSince` tells "nothing under the prefix
// changed since R" (no key written after R, the same key count) from a create, an update or a
// deletion, ignoring other prefixes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EtcdStore } from '../../src/storage/etcd.js';
import type { StoreEvent } from '../../src/storage/store.js';
import { pollUntil } from '../../src/util/poll.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';

describe('EtcdStore: progress notifications and changesSince', { skip: needs(deps.etcd), timeout: 60_000 }, () => {
  let etcd: EtcdProcess | undefined;
  let store: EtcdStore | undefined;
  let root = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-etcd-progress-'));
    etcd = await EtcdProcess.onFreePorts(join(root, 'data'), ['--experimental-watch-progress-notify-interval=200ms']);
    await etcd.start();
    store = EtcdStore.open({ endpoints: [etcd.endpoint], prefix: `/p-${randomBytes(4).toString('hex')}` });
  });

  after(async () => {
    await store?.close();
    await etcd?.kill();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('an idle watch hears of writes elsewhere through onProgress; progress never goes below delivered events', async () => {
    assert.ok(store);
    const events: StoreEvent[] = [];
    const progress: number[] = [];
    const order: string[] = [];
    const start = await store.currentRevision();
    const w = store.watch('/idle/', start, {
      onEvent: (ev) => { events.push(ev); order.push(`event ${ev.type === 'put' ? ev.kv.modRevision : ev.revision}`); },
      onError: (err) => { throw err; },
      onProgress: (r) => { progress.push(r); order.push(`progress ${r}`); },
    });
    try {
      const elsewhere = await store.create('/busy/x', 'v');
      await pollUntil('a progress notification at or past the write elsewhere', () => progress.some((r) => r >= elsewhere.modRevision), { timeoutMs: 10_000 });
      assert.equal(events.length, 0, 'no event: nothing under /idle/ changed');
      const mine = await store.create('/idle/a', 'v');
      const later = await store.create('/busy/y', 'v');
      await pollUntil('progress past the second write elsewhere', () => progress.some((r) => r >= later.modRevision), { timeoutMs: 10_000 });
      assert.equal(events.length, 1);
      // The event came before any progress at or past its revision.
      const eventAt = order.indexOf(`event ${mine.modRevision}`);
      const firstPast = order.findIndex((o) => o.startsWith('progress ') && Number(o.slice(9)) >= mine.modRevision);
      assert.ok(eventAt >= 0 && eventAt < firstPast, order.join(', '));
      for (let i = 1; i < progress.length; i++) assert.ok((progress[i] ?? 0) > (progress[i - 1] ?? 0), 'progress revisions only grow');
    } finally {
      w.cancel();
    }
  });

  test('changesSince tells an unchanged prefix from a create, an update and a deletion', async () => {
    assert.ok(store);
    await store.create('/c/a', '1');
    const b = await store.create('/c/b', '1');
    const r0 = b.modRevision;
    assert.deepEqual(pick(await store.changesSince('/c/', r0)), { count: 2, writtenAfter: false });
    await store.create('/d/other', '1'); // another prefix
    const quiet = await store.changesSince('/c/', r0);
    assert.deepEqual(pick(quiet), { count: 2, writtenAfter: false });
    assert.ok(quiet.revision > r0, 'answered at the current revision');
    const u = await store.update('/c/a', '2');
    assert.deepEqual(pick(await store.changesSince('/c/', r0)), { count: 2, writtenAfter: true }, 'an update is written after r0');
    const r1 = u.modRevision;
    await store.delete('/c/b');
    assert.deepEqual(pick(await store.changesSince('/c/', r1)), { count: 1, writtenAfter: false }, 'a deletion shows as a lower count');
    await store.create('/c/c', '1');
    assert.deepEqual(pick(await store.changesSince('/c/', r1)), { count: 2, writtenAfter: true }, 'delete + create: the same count, but written after');
    assert.deepEqual(pick(await store.changesSince('/nothing/', 0)), { count: 0, writtenAfter: false });
  });
});

function pick(x: { count: number; writtenAfter: boolean }): { count: number; writtenAfter: boolean } {
  return { count: x.count, writtenAfter: x.writtenAfter };
}
