// Durability: a writer process killed with SIGKILL mid-stream loses no acknowledged write,
// and the reopened store goes on with larger revisions. (A process crash, not a power cut:
// the latter is what synchronous=FULL adds and cannot be simulated here.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { valueFor } from './fixtures/writer-values.js';

const writerScript = fileURLToPath(new URL('./fixtures/writer.js', import.meta.url));
const RUN_MS = 1_000;

test('SIGKILL mid-stream loses no acknowledged write', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-crash-'));
  const path = join(dir, 'store.db');
  const child = spawn(process.execPath, [writerScript, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));

    // Wait until the writer is running, let it write for a while, then kill it mid-stream.
    const deadline = Date.now() + 15_000;
    while (!out.includes('ready\n')) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`writer did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, RUN_MS));
    assert.equal(child.exitCode, null, `writer stopped early: ${err}`);
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    // Only complete lines count: the last one may have been cut by the kill.
    const lines = out.split('\n').slice(1, -1);
    const acked = lines.map((l) => {
      const [key, rev] = l.split(' ');
      return { key: key as string, rev: Number(rev) };
    });
    assert.ok(acked.length > 50, `too few writes acknowledged (${acked.length}) to mean anything`);

    const store = SqliteStore.open(path);
    try {
      const items = new Map((await store.list('/crash/')).items.map((kv) => [kv.key, kv]));
      for (const a of acked) {
        const kv = items.get(a.key);
        assert.ok(kv, `acknowledged key ${a.key} lost`);
        assert.equal(kv.value, valueFor(a.key));
        assert.equal(kv.modRevision, a.rev);
      }
      const lastAcked = Math.max(...acked.map((a) => a.rev));
      assert.ok((await store.currentRevision()) >= lastAcked);
      const next = await store.create('/crash/after', 'x');
      assert.ok(next.modRevision > lastAcked);
      assert.ok(next.modRevision > Math.max(...[...items.values()].map((kv) => kv.modRevision)));
    } finally {
      await store.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
