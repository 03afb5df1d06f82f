// The instrumented store forwards every call unchanged and records latency, errors, revision
// and size (a real SQLite store in a temp dir).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { instrumentStore } from '../../src/storage/instrumented.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { parseExposition } from '../../src/ops/alerts/exposition.js';
import { isTriremeError } from '../../src/errors.js';

describe('instrumentStore', () => {
  it('forwards calls and records them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trireme-instr-'));
    const inner = SqliteStore.open(join(dir, 'db'));
    const r = new Registry();
    const store = instrumentStore(inner, r, 'sqlite');
    try {
      const kv = await store.create('/a', 'x');
      assert.equal((await store.get('/a'))?.value, 'x');
      await assert.rejects(store.create('/a', 'y'), (e: unknown) => isTriremeError(e, 'AlreadyExists'));
      await store.update('/a', 'z', kv.modRevision);
      assert.equal((await store.list('/')).items.length, 1);
      assert.equal(store.shared, undefined, 'SQLite is not shared');
      const samples = parseExposition(await r.metrics());
      const count = (op: string) => samples.find((s) => s.labels.__name__ === 'trireme_store_operation_duration_seconds_count' && s.labels.operation === op)?.value;
      assert.equal(count('create'), 2);
      assert.equal(count('get'), 1);
      assert.equal(count('update'), 1);
      assert.equal(samples.find((s) => s.labels.__name__ === 'trireme_store_operation_errors_total' && s.labels.operation === 'create')?.value, 1);
      assert.equal(samples.find((s) => s.labels.__name__ === 'trireme_store_revision')?.value, await inner.currentRevision());
      assert.ok(samples.find((s) => s.labels.__name__ === 'trireme_store_size_bytes')!.value >= 4096);
      assert.ok(samples.some((s) => s.labels.__name__ === 'trireme_store_compact_revision'));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
