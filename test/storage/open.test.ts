// openStore: creates the data directory and opens the SQLite store in it, reopenable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLITE_FILE, openStore } from '../../src/storage/open.js';

test('openStore creates the data dir and keeps data across reopen', async () => {
  const root = await mkdtemp(join(tmpdir(), 'trireme-open-'));
  const dataDir = join(root, 'nested', 'data');
  try {
    const s = openStore({ backend: 'sqlite', dataDir });
    await s.create('/a', 'x');
    await s.close();
    assert.ok(existsSync(join(dataDir, SQLITE_FILE)));
    const again = openStore({ backend: 'sqlite', dataDir });
    assert.equal((await again.get('/a'))?.value, 'x');
    await again.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
