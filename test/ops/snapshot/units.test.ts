// Snapshot decisions and the file format, without servers: the retention plan (a table), the
// schedule under a fake clock, the index comparison, and a file written, read back, and refused
// once a byte of it changed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry as PromRegistry } from 'prom-client';
import { isTriremeError } from '../../../src/errors.js';
import { FakeClock } from '../../../src/util/clock.js';
import { checkSnapshotName, defaultSnapshotName } from '../../../src/ops/snapshot/capture.js';
import { extractSnapshot, readManifest, valueDigest, writeSnapshotFile, type SnapshotIndex, type SnapshotManifest } from '../../../src/ops/snapshot/format.js';
import { SnapshotMetrics } from '../../../src/ops/snapshot/metrics.js';
import { planPrune } from '../../../src/ops/snapshot/retention.js';
import { nextRunAt, parseSchedule, startSchedule } from '../../../src/ops/snapshot/schedule.js';
import { raiseSqliteRevision, readSqliteFile } from '../../../src/ops/snapshot/sqlite-file.js';
import { CLOCK_SKEW_ALLOWANCE_S, MAX_REVISIONS_PER_SECOND, restoreRevision, type RestoreRevisionInput } from '../../../src/ops/snapshot/restore-revision.js';
import { compareWithIndex } from '../../../src/ops/snapshot/verify.js';
import { SqliteStore } from '../../../src/storage/sqlite.js';

const H = 3_600_000;
const snaps = (...hours: number[]) => hours.map((h, i) => ({ name: `s${i}`, created: h * H }));

describe('planPrune', () => {
  const table: [string, { name: string; created: number }[], number, string[], string[]][] = [
    ['nothing to prune', snaps(1, 2), 3, ['s1', 's0'], []],
    ['exactly the retention', snaps(1, 2, 3), 3, ['s2', 's1', 's0'], []],
    ['the oldest go', snaps(1, 2, 3, 4, 5), 2, ['s4', 's3'], ['s2', 's1', 's0']],
    ['input order does not matter', snaps(5, 1, 4, 2, 3), 2, ['s0', 's2'], ['s4', 's3', 's1']],
    ['a tie on time is broken by name, newest name kept', [{ name: 'a', created: H }, { name: 'b', created: H }], 1, ['b'], ['a']],
    ['none at all', [], 10, [], []],
  ];
  for (const [what, input, keep, kept, pruned] of table) {
    it(what, () => {
      const plan = planPrune(input, keep);
      assert.deepEqual(plan.keep.map((s) => s.name), kept);
      assert.deepEqual(plan.prune.map((s) => s.name), pruned);
    });
  }
  it('refuses a retention below 1 (never deletes the last snapshot)', () => {
    assert.throws(() => planPrune(snaps(1), 0), (e: unknown) => isTriremeError(e, 'BadRequest'));
    assert.throws(() => planPrune(snaps(1), 1.5), (e: unknown) => isTriremeError(e, 'BadRequest'));
  });
});

describe('schedule', () => {
  it('next run of "0 */6 * * *" (UTC)', () => {
    const cron = parseSchedule('0 */6 * * *');
    assert.equal(new Date(nextRunAt(cron, Date.parse('2026-12-02T10:15:00Z'))!).toISOString(), '2026-12-02T12:00:00.000Z');
    assert.equal(new Date(nextRunAt(cron, Date.parse('2026-12-02T12:00:00Z'))!).toISOString(), '2026-12-02T18:00:00.000Z');
    assert.equal(new Date(nextRunAt(cron, Date.parse('2026-12-02T23:59:59Z'))!).toISOString(), '2026-12-03T00:00:00.000Z');
  });
  it('a bad expression is a one-line BadRequest', () => {
    assert.throws(() => parseSchedule('every six hours'), (e: unknown) => isTriremeError(e, 'BadRequest') && /not a cron schedule/.test(e.message) && !e.message.includes('\n'));
  });
  it('runs at each scheduled time through the clock, waiting in steps across a long gap, and stops', async () => {
    const clock = new FakeClock(Date.parse('2026-12-02T10:15:00Z'));
    const runs: string[] = [];
    const s = startSchedule({ expr: '0 */6 * * *', clock, run: async () => { runs.push(new Date(clock.now()).toISOString()); }, onError: () => assert.fail('no error expected') });
    clock.advance(H); // 11:15
    assert.deepEqual(runs, []);
    clock.advance(H); // 12:15: the 12:00 run fired
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(runs, ['2026-12-02T12:00:00.000Z']);
    clock.advance(6 * H);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(runs, ['2026-12-02T12:00:00.000Z', '2026-12-02T18:00:00.000Z']);
    await s.stop();
    clock.advance(24 * H);
    await new Promise((r) => setImmediate(r));
    assert.equal(runs.length, 2);
  });
  it('a failing run is reported and the schedule goes on', async () => {
    const clock = new FakeClock(Date.parse('2026-12-02T00:30:00Z'));
    const errors: unknown[] = [];
    let n = 0;
    const s = startSchedule({ expr: '0 * * * *', clock, run: async () => { n++; throw new Error('disk full'); }, onError: (e) => errors.push(e) });
    for (let i = 0; i < 3; i++) { clock.advance(H); await new Promise((r) => setImmediate(r)); }
    await s.stop();
    assert.equal(n, 3);
    assert.equal(errors.length, 3);
  });
});

describe('snapshot names', () => {
  it('default names sort by time and pass the name check', () => {
    const a = defaultSnapshotName('s1', Date.parse('2026-12-02T10:15:00.123Z'));
    assert.equal(a, 'trireme-s1-20261202t101500z');
    assert.equal(checkSnapshotName(a), a);
    assert.throws(() => checkSnapshotName('../etc/passwd'), (e: unknown) => isTriremeError(e, 'BadRequest'));
    assert.throws(() => checkSnapshotName('Upper'), (e: unknown) => isTriremeError(e, 'BadRequest'));
  });
});

const manifest = (over: Partial<SnapshotManifest> = {}): SnapshotManifest => ({
  name: 'x', store: 'sqlite', revision: 7, objectCount: 2, storeBytes: 0, bodyBytes: 0, sha256: '', created: '', server: 's1', ...over,
});

describe('compareWithIndex', () => {
  const index: SnapshotIndex = { revision: 7, objects: [['/a', 3, valueDigest('A')], ['/b', 7, valueDigest('B')]], secrets: {} };
  it('no problem when every object matches', () => {
    assert.deepEqual(compareWithIndex(manifest(), index, { revision: 7, objects: [{ key: '/a', value: 'A', modRevision: 3 }, { key: '/b', value: 'B', modRevision: 7 }] }), []);
  });
  it('names a missing, a changed, a moved and an extra object, and a wrong revision', () => {
    const problems = compareWithIndex(manifest(), index, { revision: 6, objects: [{ key: '/b', value: 'b!', modRevision: 7 }, { key: '/c', value: 'C', modRevision: 5 }] });
    assert.deepEqual(problems, [
      'the restored store is at revision 6, the manifest says 7',
      '/a: missing',
      '/b: its value differs from the one indexed',
      '/c: present but not in the index',
    ]);
    assert.deepEqual(compareWithIndex(manifest(), index, { revision: 7, objects: [{ key: '/a', value: 'A', modRevision: 4 }, { key: '/b', value: 'B', modRevision: 7 }] }), ['/a: mod revision 4, the index says 3']);
  });
});

describe('snapshot file and SQLite store file', () => {
  it('round-trips, and a changed byte is refused by its checksum with one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trireme-snapfmt-'));
    try {
      const db = join(dir, 'trireme.db');
      const store = SqliteStore.open(db);
      await store.create('/registry/configmaps/default/a', '{"a":1}');
      const b = await store.create('/registry/configmaps/default/b', '{"b":2}');
      await store.delete('/registry/configmaps/default/a');
      const copy = join(dir, 'copy.db');
      await store.backup(copy);
      await store.close();
      const read = readSqliteFile(copy);
      assert.equal(read.revision, 3);
      assert.deepEqual(read.objects, [{ key: '/registry/configmaps/default/b', value: '{"b":2}', modRevision: b.modRevision }]);

      const file = join(dir, 'x.snapshot');
      const index: SnapshotIndex = { revision: read.revision, objects: read.objects.map((o) => [o.key, o.modRevision, valueDigest(o.value)]), secrets: { token: 'T\n' } };
      const m = await writeSnapshotFile(file, { name: 'x', store: 'sqlite', revision: 3, objectCount: 1, created: 'now', server: 's1' }, index, copy);
      assert.equal((await readManifest(file)).manifest.sha256, m.sha256);
      const out = join(dir, 'out.db');
      const back = await extractSnapshot(file, out);
      assert.deepEqual(back.index, index);
      assert.deepEqual(await readFile(out), await readFile(copy));

      const bytes = await readFile(file);
      bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
      await writeFile(join(dir, 'bad.snapshot'), bytes);
      await assert.rejects(extractSnapshot(join(dir, 'bad.snapshot'), join(dir, 'bad.db')), (e: unknown) =>
        isTriremeError(e, 'BadRequest') && /is corrupt: the SHA-256 of its contents is .* its manifest says/.test(e.message) && !e.message.includes('\n'));
      await writeFile(join(dir, 'short.snapshot'), bytes.subarray(0, bytes.length - 100));
      await assert.rejects(extractSnapshot(join(dir, 'short.snapshot'), join(dir, 'short.db')), /is corrupt/);
      await writeFile(join(dir, 'not.snapshot'), 'hello\n');
      await assert.rejects(readManifest(join(dir, 'not.snapshot')), /does not start with TRIREME-SNAPSHOT\/1/);

      // The restore's jump: objects unchanged, the next write numbered past the target, history compacted.
      assert.throws(() => raiseSqliteRevision(out, 2), /it is at 3/);
      const bumped = raiseSqliteRevision(out, 1003);
      assert.deepEqual(bumped, { from: 3, to: 1003 });
      const again = SqliteStore.open(out);
      try {
        assert.equal(await again.currentRevision(), 1003);
        assert.equal((await again.get('/registry/configmaps/default/b'))?.modRevision, b.modRevision);
        assert.equal((await again.create('/registry/configmaps/default/c', '{}')).modRevision, 1004);
        assert.equal(await again.compactRevision(), 1003);
      } finally {
        await again.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('restoreRevision', () => {
  const T = 1_800_000_000_000;
  const skew = CLOCK_SKEW_ALLOWANCE_S * MAX_REVISIONS_PER_SECOND;
  const base: RestoreRevisionInput = { snapshotRevision: 500, snapshotCreated: T, now: T, knownRevisions: [], minBump: 100_000 };
  const table: [string, Partial<RestoreRevisionInput>, number, string][] = [
    ['a snapshot taken just now: the clock-skew allowance at the rate ceiling', {}, 500 + skew, 'rate-bound'],
    ['six hours old: every revision the lost cluster could have made since, at the ceiling', { now: T + 6 * 3_600_000 }, 500 + skew + 6 * 3600 * MAX_REVISIONS_PER_SECOND, 'rate-bound'],
    ['a clock behind the saver\'s counts no negative time', { now: T - 3_600_000 }, 500 + skew, 'rate-bound'],
    ['a floor above the rate bound wins', { minBump: skew * 2 }, 500 + skew * 2, 'floor'],
    ['the replaced store was further ahead than the bound: past it by the floor', { knownRevisions: [skew * 3, 7] }, skew * 3 + 100_000, 'replaced-store'],
    ['the replaced store behind the bound changes nothing', { knownRevisions: [900] }, 500 + skew, 'rate-bound'],
  ];
  for (const [what, over, target, by] of table) {
    it(what, () => assert.deepEqual(restoreRevision({ ...base, ...over }), { target, by }));
  }
  it('refuses a revision past 2^53 rather than lose exactness', () => {
    assert.throws(() => restoreRevision({ ...base, snapshotRevision: Number.MAX_SAFE_INTEGER - 10 }), RangeError);
  });
});

describe('SnapshotMetrics', () => {
  it('exposes the four metrics under their contract names', async () => {
    const reg = new PromRegistry();
    const m = new SnapshotMetrics(reg, 's1');
    assert.doesNotMatch(await reg.metrics(), /^trireme_snapshot_last_success_timestamp_seconds/m, 'no series before a snapshot is known');
    m.succeeded(1_800_000_000_000, 4096, 0.3);
    m.failed(0.1);
    const text = await reg.metrics();
    assert.match(text, /^trireme_snapshot_last_success_timestamp_seconds\{server="s1"\} 1800000000$/m);
    assert.match(text, /^trireme_snapshot_last_size_bytes\{server="s1"\} 4096$/m);
    assert.match(text, /^trireme_snapshot_total\{result="success"\} 1$/m);
    assert.match(text, /^trireme_snapshot_total\{result="failure"\} 1$/m);
    assert.match(text, /^trireme_snapshot_duration_seconds_count 2$/m);
  });
});
