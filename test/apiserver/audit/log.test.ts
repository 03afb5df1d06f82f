// The audit log writer in a temp dir: one JSON line per event in order, size rotation with
// timestamped names and the backup limit, a full queue dropping and counting, close flushing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { AuditLog, backupName, backupsToRemove } from '../../../src/apiserver/audit/log.js';
import { FakeClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-audit-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('audit log names', () => {
  it('backup names carry the UTC time; only the newest N backups are kept', () => {
    assert.equal(backupName('/var/log/audit.log', Date.UTC(2026, 11, 3, 6, 30, 0, 123)), '/var/log/audit-20261203T063000.123Z.log');
    const names = ['audit.log', 'audit-20261203T063000.123Z.log', 'audit-20261203T063001.000Z.log', 'audit-20261203T062959.999Z.log', 'other-20261203T063000.123Z.log', 'audit-x.log'];
    assert.deepEqual(backupsToRemove('/d/audit.log', names, 2), ['audit-20261203T062959.999Z.log']);
    assert.deepEqual(backupsToRemove('/d/audit.log', names, 0), []);
  });
});

describe('AuditLog', () => {
  it('writes one line per event, in order, mode 0600', () => withDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const log = new AuditLog({ path, maxSizeBytes: 0, maxBackups: 0, clock: new FakeClock(), logger: silentLogger, registry: new Registry() });
    for (let i = 0; i < 100; i++) log.record({ i });
    await log.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { i: number });
    assert.deepEqual(lines.map((l) => l.i), [...Array(100).keys()]);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  }));

  it('rotates by size, renaming with a timestamp, keeping maxBackups files', () => withDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const clock = new FakeClock(Date.UTC(2026, 11, 3, 6, 0, 0));
    const log = new AuditLog({ path, maxSizeBytes: 1000, maxBackups: 2, clock, logger: silentLogger, registry: new Registry() });
    const pad = 'x'.repeat(180);
    for (let i = 0; i < 30; i++) {
      log.record({ i, pad });
      await log.flushed();
      clock.advance(1000);
    }
    await log.close();
    const names = (await readdir(dir)).sort();
    assert.equal(names.length, 3, names.join(' '));
    assert.ok(names.includes('audit.log'));
    for (const n of names.filter((x) => x !== 'audit.log')) {
      assert.match(n, /^audit-20261203T06\d{4}\.000Z\.log$/);
      assert.ok((await stat(join(dir, n))).size <= 1000);
    }
    const last = (await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
    assert.equal(last[last.length - 1], 29);
    // Every line survives in the kept files, contiguous up to the last.
    const kept = (await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')))).join('').trimEnd().split('\n').map((l) => (JSON.parse(l) as { i: number }).i).sort((a, b) => a - b);
    assert.deepEqual(kept, [...Array(kept.length).keys()].map((k) => k + 30 - kept.length));
  }));

  it('a full queue drops and counts, and the writer goes on', () => withDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const registry = new Registry();
    const log = new AuditLog({ path, maxSizeBytes: 0, maxBackups: 0, queueSize: 10, clock: new FakeClock(), logger: silentLogger, registry });
    // Synchronously: the background writer has not run, so the queue fills at 10.
    for (let i = 0; i < 25; i++) log.record({ i });
    await log.flushed();
    log.record({ i: 'after' });
    await log.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    assert.ok(lines.length >= 11 && lines.length <= 12, `${lines.length} lines`);
    const metric = await registry.getSingleMetricAsString('trireme_audit_events_dropped_total');
    const dropped = Number(/trireme_audit_events_dropped_total (\d+)/.exec(metric)?.[1]);
    assert.equal(dropped + lines.length, 26);
    assert.ok(dropped >= 14);
  }));
});
