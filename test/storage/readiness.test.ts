// decideReadiness (pure): every cause makes the store not ready and appears in the message;
// only a clean observation is ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, decideReadiness, type ReadinessObservation } from '../../src/storage/readiness.js';

const NOW = 1_700_000_000_000;
const space = (freeBytes: number) => ({ dir: '/data', freeBytes, minFreeBytes: 32 * 1024 * 1024 });

const cases: { name: string; o: ReadinessObservation; ok: boolean; message: RegExp }[] = [
  { name: 'nothing written yet', o: { backend: 'sqlite', space: space(1 << 30) }, ok: true, message: /^sqlite: read ok, no write yet, 1\.0 GiB free$/ },
  { name: 'last write ok', o: { backend: 'etcd', lastWrite: { ok: true, at: NOW - 4_000 } }, ok: true, message: /^etcd: read ok, last write ok 4s ago$/ },
  { name: 'read failed', o: { backend: 'etcd', readError: 'deadline exceeded' }, ok: false, message: /^etcd: read failed: deadline exceeded$/ },
  { name: 'last write failed', o: { backend: 'sqlite', lastWrite: { ok: false, at: NOW - 2_000, error: 'disk is full' } }, ok: false, message: /^sqlite: last write failed 2s ago: disk is full$/ },
  { name: 'sticky fault', o: { backend: 'sqlite', fault: 'the database file is damaged', lastWrite: { ok: true, at: NOW } }, ok: false, message: /damaged/ },
  { name: 'free space below the reserve', o: { backend: 'sqlite', space: space(1536) }, ok: false, message: /^sqlite: 1\.5 KiB free in \/data, below the 32\.0 MiB the store keeps in reserve$/ },
  { name: 'free space exactly at the reserve', o: { backend: 'sqlite', space: space(32 * 1024 * 1024) }, ok: true, message: /32\.0 MiB free/ },
  { name: 'free space unknown', o: { backend: 'sqlite', spaceError: 'ENOENT' }, ok: false, message: /cannot measure free space: ENOENT/ },
  { name: 'alarm raised', o: { backend: 'etcd', alarms: ['NOSPACE on member 1'] }, ok: false, message: /^etcd: alarms raised: NOSPACE on member 1$/ },
  { name: 'alarm list unreadable', o: { backend: 'etcd', alarmError: 'permission denied' }, ok: false, message: /cannot list alarms: permission denied/ },
  { name: 'empty alarm list', o: { backend: 'etcd', alarms: [] }, ok: true, message: /^etcd: read ok/ },
  {
    name: 'several causes, all named',
    o: { backend: 'sqlite', readError: 'I/O error', lastWrite: { ok: false, at: NOW, error: 'full' }, space: space(0) },
    ok: false,
    message: /^sqlite: read failed: I\/O error; last write failed 0s ago: full; 0 B free in \/data/,
  },
];

for (const c of cases) {
  test(`decideReadiness: ${c.name}`, () => {
    const r = decideReadiness(c.o, NOW);
    assert.equal(r.ok, c.ok);
    assert.match(r.message, c.message);
  });
}

test('bytes formats binary units', () => {
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(1023), '1023 B');
  assert.equal(bytes(1024), '1.0 KiB');
  assert.equal(bytes(5 * 1024 * 1024 * 1024), '5.0 GiB');
});
