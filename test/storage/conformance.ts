// A conformance suite for Store backends: every backend (SQLite, etcd) runs the same tests,
// so the API server can rely on the contract in src/storage/store.ts and nothing more.
//
// Each test works under its own random key prefix, so a backend shared between tests (one
// etcd cluster) is fine; tests assume nothing about absolute revision numbers. Tests within
// the suite run one after another (node:test's default inside a file).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isTriremeError, type ErrorCode } from '../../src/errors.js';
import type { Store, StoreEvent, KeyValue } from '../../src/storage/store.js';

export interface OpenedStore {
  store: Store;
  /** Opens the same data again after the suite closed `store` (omit if the backend cannot). */
  reopen?: () => Promise<Store>;
  /** Closes whatever the factory opened (close is idempotent) and removes its data. */
  cleanup: () => Promise<void>;
}

const WAIT_MS = 5_000;

/** Collects a watch's events and its error, with promises to wait for them. */
export class WatchRecorder {
  readonly events: StoreEvent[] = [];
  error: Error | undefined;
  private wakeups: (() => void)[] = [];
  private readonly handle: { cancel(): void };

  constructor(store: Store, prefix: string, afterRevision: number) {
    this.handle = store.watch(prefix, afterRevision, {
      onEvent: (ev) => {
        this.events.push(ev);
        this.wake();
      },
      onError: (err) => {
        assert.equal(this.error, undefined, 'onError called twice');
        this.error = err;
        this.wake();
      },
    });
  }

  cancel(): void {
    this.handle.cancel();
  }

  /** Resolves once `n` events arrived (fails on a watch error or timeout). */
  async waitForEvents(n: number, timeoutMs = WAIT_MS): Promise<StoreEvent[]> {
    await this.until(() => this.events.length >= n || this.error !== undefined, timeoutMs, `${n} events (have ${this.events.length})`);
    if (this.error && this.events.length < n) throw this.error;
    return this.events.slice(0, n);
  }

  async waitForError(timeoutMs = WAIT_MS): Promise<Error> {
    await this.until(() => this.error !== undefined, timeoutMs, 'a watch error');
    return this.error as Error;
  }

  private wake(): void {
    const w = this.wakeups;
    this.wakeups = [];
    for (const f of w) f();
  }

  private async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wakeups.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

export function eventRevision(ev: StoreEvent): number {
  return ev.type === 'put' ? ev.kv.modRevision : ev.revision;
}

export function eventKey(ev: StoreEvent): string {
  return ev.type === 'put' ? ev.kv.key : ev.key;
}

/** Asserts that `p` rejects with a TriremeError of `code`; returns it. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    assert.ok(isTriremeError(err, code), `expected ${code}, got ${String(err)}`);
    return err.context;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

function uniquePrefix(): string {
  return `/conformance/${randomBytes(6).toString('hex')}/`;
}

export function runStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  /** Runs `fn` against a freshly opened store under a unique prefix, always cleaning up. */
  async function withStore(fn: (s: Store, p: string, opened: OpenedStore) => Promise<void>): Promise<void> {
    const opened = await open();
    try {
      await fn(opened.store, uniquePrefix(), opened);
    } finally {
      await opened.cleanup();
    }
  }

  describe(`Store conformance: ${name}`, () => {
    test('create then get returns the value with createRevision = modRevision', () =>
      withStore(async (s, p) => {
        const before = await s.currentRevision();
        const kv = await s.create(`${p}a`, 'one');
        assert.ok(kv.modRevision > before);
        assert.deepEqual(kv, { key: `${p}a`, value: 'one', createRevision: kv.modRevision, modRevision: kv.modRevision });
        assert.deepEqual(await s.get(`${p}a`), kv);
        assert.equal(await s.get(`${p}missing`), undefined);
        assert.ok((await s.currentRevision()) >= kv.modRevision);
      }));

    test('create of an existing key fails with AlreadyExists and changes nothing', () =>
      withStore(async (s, p) => {
        const kv = await s.create(`${p}a`, 'one');
        const ctx = await rejectsWith(s.create(`${p}a`, 'two'), 'AlreadyExists');
        assert.equal(ctx.key, `${p}a`);
        assert.deepEqual(await s.get(`${p}a`), kv);
      }));

    test('values round-trip byte for byte', () =>
      withStore(async (s, p) => {
        const value = JSON.stringify({ text: 'ünïcødé ✓ 🚀', big: 'x'.repeat(200_000), nul: '\u0000' });
        await s.create(`${p}v`, value);
        assert.equal((await s.get(`${p}v`))?.value, value);
      }));

    test('list returns exactly the keys under the prefix, in key order', () =>
      withStore(async (s, p) => {
        for (const k of ['b/2', 'a/x', 'ab/z', 'a/y', 'b/1', 'a/a/deep']) await s.create(`${p}${k}`, k);
        await s.create(`${p.slice(0, -1)}x`, 'outside');
        const last = await s.currentRevision();
        const a = await s.list(`${p}a/`);
        assert.deepEqual(a.items.map((kv) => kv.key), [`${p}a/a/deep`, `${p}a/x`, `${p}a/y`]);
        assert.ok(a.revision >= last);
        const all = await s.list(p);
        assert.deepEqual(all.items.map((kv) => kv.value), ['a/a/deep', 'a/x', 'a/y', 'ab/z', 'b/1', 'b/2']);
        assert.deepEqual((await s.list(`${p}nothing/`)).items, []);
      }));

    test('update: unconditional, compare-and-swap, Conflict and NotFound', () =>
      withStore(async (s, p) => {
        const k = `${p}u`;
        const c = await s.create(k, 'v1');
        const u1 = await s.update(k, 'v2');
        assert.equal(u1.createRevision, c.createRevision);
        assert.ok(u1.modRevision > c.modRevision);
        const u2 = await s.update(k, 'v3', u1.modRevision);
        assert.equal(u2.value, 'v3');
        assert.equal(u2.createRevision, c.createRevision);
        assert.ok(u2.modRevision > u1.modRevision);
        const ctx = await rejectsWith(s.update(k, 'stale', u1.modRevision), 'Conflict');
        assert.deepEqual(ctx, { key: k, expected: u1.modRevision, actual: u2.modRevision });
        assert.deepEqual(await s.get(k), u2);
        assert.equal((await rejectsWith(s.update(`${p}none`, 'x'), 'NotFound')).key, `${p}none`);
        await rejectsWith(s.update(`${p}none`, 'x', 5), 'NotFound');
      }));

    test('delete: plain and guarded; the key can be created again with a new createRevision', () =>
      withStore(async (s, p) => {
        const k = `${p}d`;
        const c = await s.create(k, 'v1');
        const u = await s.update(k, 'v2');
        const ctx = await rejectsWith(s.delete(k, c.modRevision), 'Conflict');
        assert.deepEqual(ctx, { key: k, expected: c.modRevision, actual: u.modRevision });
        assert.deepEqual(await s.get(k), u);
        const d = await s.delete(k, u.modRevision);
        assert.deepEqual(d.prev, u);
        assert.ok(d.revision > u.modRevision);
        assert.equal(await s.get(k), undefined);
        await rejectsWith(s.delete(k), 'NotFound');
        await rejectsWith(s.delete(k, d.revision), 'NotFound');
        const again = await s.create(k, 'v3');
        assert.ok(again.createRevision > d.revision);
        assert.equal(again.createRevision, again.modRevision);
        const d2 = await s.delete(k);
        assert.deepEqual(d2.prev, again);
      }));

    test('write guard: create, update and delete apply only while the guard key is unchanged', () =>
      withStore(async (s, p) => {
        const lease = await s.create(`${p}lease`, 'term-1');
        const guard = { key: `${p}lease`, modRevision: lease.modRevision };
        // Guard current: every write applies.
        const c = await s.create(`${p}obj`, 'v1', { guard });
        const u = await s.update(`${p}obj`, 'v2', c.modRevision, { guard });
        const u2 = await s.update(`${p}obj`, 'v3', undefined, { guard });
        await s.create(`${p}gone`, 'x');
        await s.delete(`${p}gone`, undefined, { guard });
        // The guard key moves on (a takeover): the same guard now refuses every write.
        const moved = await s.update(`${p}lease`, 'term-2');
        const before = await s.currentRevision();
        const expectCtx = { guardFailed: true, key: guard.key, expected: guard.modRevision, actual: moved.modRevision };
        assert.deepEqual(await rejectsWith(s.create(`${p}new`, 'x', { guard }), 'Conflict'), expectCtx);
        assert.deepEqual(await rejectsWith(s.update(`${p}obj`, 'stale', u2.modRevision, { guard }), 'Conflict'), expectCtx);
        assert.deepEqual(await rejectsWith(s.update(`${p}obj`, 'stale', undefined, { guard }), 'Conflict'), expectCtx);
        assert.deepEqual(await rejectsWith(s.delete(`${p}obj`, undefined, { guard }), 'Conflict'), expectCtx);
        // Nothing was applied and no revision was used.
        assert.equal(await s.get(`${p}new`), undefined);
        assert.equal((await s.get(`${p}obj`))?.value, 'v3');
        assert.equal(await s.currentRevision(), before);
        assert.ok(u.modRevision > c.modRevision);
        // A guard at the new revision works again.
        await s.update(`${p}obj`, 'v4', undefined, { guard: { key: guard.key, modRevision: moved.modRevision } });
        assert.equal((await s.get(`${p}obj`))?.value, 'v4');
      }));

    test('write guard: the guard is checked before the key, and an absent guard key counts as revision 0', () =>
      withStore(async (s, p) => {
        const lease = await s.create(`${p}lease`, 'x');
        const obj = await s.create(`${p}obj`, 'v1');
        // Both the guard and the key's own check fail: the guard is reported.
        const stale = { key: `${p}lease`, modRevision: lease.modRevision - 1 };
        assert.equal((await rejectsWith(s.create(`${p}obj`, 'dup', { guard: stale }), 'Conflict')).guardFailed, true);
        assert.equal((await rejectsWith(s.update(`${p}none`, 'x', undefined, { guard: stale }), 'Conflict')).guardFailed, true);
        // Guard fine, key check fails: the key's own error, without guardFailed.
        const fine = { key: `${p}lease`, modRevision: lease.modRevision };
        await rejectsWith(s.create(`${p}obj`, 'dup', { guard: fine }), 'AlreadyExists');
        const cas = await rejectsWith(s.update(`${p}obj`, 'x', obj.modRevision + 1000, { guard: fine }), 'Conflict');
        assert.equal(cas.guardFailed, undefined);
        await rejectsWith(s.delete(`${p}none`, undefined, { guard: fine }), 'NotFound');
        // The guard key deleted (or never there): a guard naming its last revision fails ...
        await s.delete(`${p}lease`);
        const absent = await rejectsWith(s.update(`${p}obj`, 'x', undefined, { guard: fine }), 'Conflict');
        assert.deepEqual(absent, { guardFailed: true, key: fine.key, expected: fine.modRevision, actual: 0 });
        assert.equal((await rejectsWith(s.create(`${p}new`, 'x', { guard: { key: `${p}never`, modRevision: 7 } }), 'Conflict')).actual, 0);
        // ... and a guard of revision 0 means "while the key is absent".
        await s.create(`${p}new`, 'x', { guard: { key: `${p}never`, modRevision: 0 } });
        assert.equal((await s.get(`${p}new`))?.value, 'x');
        assert.equal((await s.get(`${p}obj`))?.value, 'v1');
      }));

    test('write guard: a takeover and a stale guarded write racing; the stale one never applies', () =>
      withStore(async (s, p) => {
        const lease = await s.create(`${p}lease`, 'holder-a');
        const guard = { key: `${p}lease`, modRevision: lease.modRevision };
        await s.create(`${p}obj`, '0');
        // The takeover is issued first, the guarded writes right behind it (one commit batch on
        // SQLite, concurrent transactions on etcd): none of them may apply after it.
        const takeover = s.update(`${p}lease`, 'holder-b', lease.modRevision);
        const writes = Array.from({ length: 10 }, (_, i) => s.update(`${p}obj`, `a-${i}`, undefined, { guard }));
        const results = await Promise.allSettled(writes);
        const t = await takeover;
        for (const r of results) {
          if (r.status === 'fulfilled') assert.ok(r.value.modRevision < t.modRevision, 'a guarded write applied after the takeover');
          else assert.ok(isTriremeError(r.reason, 'Conflict') && r.reason.context.guardFailed === true, String(r.reason));
        }
        const obj = await s.get(`${p}obj`);
        assert.ok(obj !== undefined && obj.modRevision < t.modRevision);
      }));

    test('every change gets a strictly larger revision', () =>
      withStore(async (s, p) => {
        const revs: number[] = [await s.currentRevision()];
        for (let i = 0; i < 10; i++) {
          revs.push((await s.create(`${p}${i}`, 'x')).modRevision);
          revs.push((await s.update(`${p}${i}`, 'y')).modRevision);
          if (i % 2 === 0) revs.push((await s.delete(`${p}${i}`)).revision);
        }
        for (let i = 1; i < revs.length; i++) assert.ok((revs[i] as number) > (revs[i - 1] as number), `revision ${i} not increasing: ${revs.join(',')}`);
        assert.ok((await s.currentRevision()) >= (revs.at(-1) as number));
        // A failed write does not consume a revision that later shows up out of order.
        await rejectsWith(s.create(`${p}1`, 'dup'), 'AlreadyExists');
        const next = await s.create(`${p}next`, 'z');
        assert.ok(next.modRevision > (revs.at(-1) as number));
      }));

    test('watch from a past revision replays every change in order, then live ones', () =>
      withStore(async (s, p) => {
        const start = await s.currentRevision();
        const c = await s.create(`${p}w`, 'v1');
        const u = await s.update(`${p}w`, 'v2', c.modRevision);
        const d = await s.delete(`${p}w`);
        const w = new WatchRecorder(s, p, start);
        try {
          const past = await w.waitForEvents(3);
          assert.deepEqual(past[0], { type: 'put', kv: c });
          assert.equal(past[1]?.type, 'put');
          assert.deepEqual(past[1]?.type === 'put' && past[1].kv, u);
          assert.deepEqual(past[2], { type: 'delete', key: `${p}w`, revision: d.revision, prev: u });
          const live1 = await s.create(`${p}x`, 'live');
          const live2 = await s.update(`${p}x`, 'live2');
          const all = await w.waitForEvents(5);
          assert.deepEqual(all.slice(3).map(eventRevision), [live1.modRevision, live2.modRevision]);
          assert.equal(all[4]?.type === 'put' && all[4].kv.value, 'live2');
          // Nothing more arrives (exactly once).
          await new Promise((r) => setTimeout(r, 50));
          assert.equal(w.events.length, 5);
          assert.equal(w.error, undefined);
        } finally {
          w.cancel();
        }
      }));

    test('watch from a revision skips earlier changes; from the current revision it sees only new ones', () =>
      withStore(async (s, p) => {
        const a = await s.create(`${p}a`, '1');
        const b = await s.create(`${p}b`, '2');
        const fromA = new WatchRecorder(s, p, a.modRevision);
        const now = new WatchRecorder(s, p, await s.currentRevision());
        try {
          const c = await s.create(`${p}c`, '3');
          assert.deepEqual((await fromA.waitForEvents(2)).map(eventRevision), [b.modRevision, c.modRevision]);
          assert.deepEqual((await now.waitForEvents(1)).map(eventRevision), [c.modRevision]);
        } finally {
          fromA.cancel();
          now.cancel();
        }
      }));

    test('watch filters by prefix', () =>
      withStore(async (s, p) => {
        const start = await s.currentRevision();
        await s.create(`${p}a/1`, 'x');
        await s.create(`${p}b/1`, 'x');
        await s.create(`${p}ab/1`, 'x');
        const w = new WatchRecorder(s, `${p}a/`, start);
        try {
          await s.create(`${p}b/2`, 'x');
          await s.create(`${p}a/2`, 'x');
          await s.delete(`${p}b/1`);
          await s.delete(`${p}a/1`);
          const evs = await w.waitForEvents(3);
          assert.deepEqual(evs.map((e) => `${e.type} ${eventKey(e)}`), [`put ${p}a/1`, `put ${p}a/2`, `delete ${p}a/1`]);
          await new Promise((r) => setTimeout(r, 50));
          assert.equal(w.events.length, 3);
        } finally {
          w.cancel();
        }
      }));

    test('a cancelled watch receives nothing more and no error', () =>
      withStore(async (s, p) => {
        const w = new WatchRecorder(s, p, await s.currentRevision());
        await s.create(`${p}1`, 'x');
        await w.waitForEvents(1);
        w.cancel();
        await s.create(`${p}2`, 'x');
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(w.events.length, 1);
        assert.equal(w.error, undefined);
      }));

    test('many concurrent writes reach a watcher complete and in order', () =>
      withStore(async (s, p) => {
        const w = new WatchRecorder(s, p, await s.currentRevision());
        try {
          const n = 300;
          const made = await Promise.all(Array.from({ length: n }, (_, i) => s.create(`${p}${String(i).padStart(4, '0')}`, `${i}`)));
          const evs = await w.waitForEvents(n, 15_000);
          const revs = evs.map(eventRevision);
          assert.deepEqual(revs, made.map((kv) => kv.modRevision).sort((x, y) => x - y));
          await new Promise((r) => setTimeout(r, 50));
          assert.equal(w.events.length, n);
        } finally {
          w.cancel();
        }
      }));

    test('watch from a compacted revision fails with Gone', () =>
      withStore(async (s, p) => {
        const start = await s.currentRevision();
        await s.create(`${p}1`, 'x');
        await s.update(`${p}1`, 'y');
        const compactTo = await s.currentRevision();
        await s.compact(compactTo);
        assert.ok((await s.compactRevision()) >= compactTo);
        assert.equal((await s.get(`${p}1`))?.value, 'y', 'compaction keeps current values');
        const old = new WatchRecorder(s, p, start);
        const err = await old.waitForError();
        assert.ok(isTriremeError(err, 'Gone'), `expected Gone, got ${String(err)}`);
        assert.ok(typeof err.context.compactRevision === 'number' && err.context.compactRevision >= compactTo);
        assert.equal(old.events.length, 0);
        // Watching from the compact revision itself works.
        const ok = new WatchRecorder(s, p, compactTo);
        try {
          const kv = await s.create(`${p}2`, 'z');
          assert.deepEqual((await ok.waitForEvents(1)).map(eventRevision), [kv.modRevision]);
        } finally {
          ok.cancel();
        }
      }));

    test('20 concurrent compare-and-swap updates from the same read: exactly one wins', () =>
      withStore(async (s, p) => {
        const k = `${p}cas`;
        const read = await s.create(k, 'base');
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.update(k, `writer-${i}`, read.modRevision)));
        const won = results.filter((r): r is PromiseFulfilledResult<KeyValue> => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1);
        assert.equal(lost.length, 19);
        for (const l of lost) assert.ok(isTriremeError(l.reason, 'Conflict'), String(l.reason));
        assert.deepEqual(await s.get(k), won[0]?.value);
      }));

    test('concurrent creates of one key: exactly one wins', () =>
      withStore(async (s, p) => {
        const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.create(`${p}once`, `${i}`)));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(isTriremeError(r.reason, 'AlreadyExists'));
      }));

    test('revisions keep increasing across reopen, even after deleting and compacting', () =>
      withStore(async (s, p, opened) => {
        if (!opened.reopen) return;
        const kept = await s.create(`${p}kept`, 'stays');
        await s.create(`${p}gone`, 'x');
        const d = await s.delete(`${p}gone`);
        await s.compact(d.revision);
        const before = await s.currentRevision();
        await s.close();
        const s2 = await opened.reopen();
        assert.ok((await s2.currentRevision()) >= before);
        assert.ok((await s2.compactRevision()) >= d.revision);
        assert.deepEqual(await s2.get(`${p}kept`), kept);
        assert.equal(await s2.get(`${p}gone`), undefined);
        const next = await s2.create(`${p}gone`, 'again');
        assert.ok(next.modRevision > before);
        await s2.close();
      }));

    test('after close: operations fail with StoreClosed', () =>
      withStore(async (s, p) => {
        await s.create(`${p}a`, 'x');
        await s.close();
        await rejectsWith(s.get(`${p}a`), 'StoreClosed');
        await rejectsWith(s.create(`${p}b`, 'x'), 'StoreClosed');
        await rejectsWith(s.list(p), 'StoreClosed');
        await s.close();
      }));

    test('readiness: ready while healthy, also after a refused write; not ready once closed', () =>
      withStore(async (s, p) => {
        const fresh = await s.readiness();
        assert.equal(fresh.ok, true, fresh.message);
        await s.create(`${p}a`, 'x');
        await rejectsWith(s.create(`${p}a`, 'x'), 'AlreadyExists');
        const after = await s.readiness();
        assert.equal(after.ok, true, after.message);
        assert.match(after.message, /read ok, last write ok/);
        await s.close();
        const closed = await s.readiness();
        assert.equal(closed.ok, false);
        assert.match(closed.message, /closed/);
      }));
  });
}
