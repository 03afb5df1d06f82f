// Durability under group commit: a writer process with WRITERS concurrent writers (so that one
// transaction carries many writes) is killed with SIGKILL mid-stream; the reopened store must
// hold every acknowledged write and nothing half-present. (A process crash, not a power cut:
// the latter is what synchronous=FULL adds and cannot be simulated here.)
//
// "Half-present", precisely -- each of these fails the test:
// - a key whose value is not exactly what its writer wrote (truncated, torn or mismatched), or
//   whose revisions disagree with the change log;
// - a change-log entry whose effect is missing from the current state, or current state that
//   the change log does not explain (replaying the log from revision 0 must give the state);
// - a gap in the revisions 1..current (part of a batch committed without the rest);
// - a writer's key i present while its key i-1 is absent, or more than one unacknowledged key
//   per writer (a writer has one write in flight at a time, issued after the previous ack);
// - a counter at a value its writer never reached, or behind its last acknowledged value.
// Unacknowledged writes that are fully present are fine: the kill can cut the ack line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { KeyValue, StoreEvent } from '../../src/storage/store.js';
import { pollUntil } from '../../src/util/poll.js';
import { WRITERS, counterKey, counterValue, keyFor, valueFor } from './fixtures/writer-values.js';

const writerScript = fileURLToPath(new URL('./fixtures/writer.js', import.meta.url));
const RUN_MS = 1_500;

interface Acks {
  /** Highest acknowledged create index per writer (-1: none). */
  created: number[];
  /** Highest acknowledged counter value per writer (-1: none). */
  counted: number[];
  /** key -> revision of every acknowledged create. */
  revisions: Map<string, number>;
  /** Acknowledgements per event-loop turn of the writer, i.e. per group commit. */
  perBatch: number[];
}

function parseAcks(out: string): Acks {
  // Only complete lines count: the last one may have been cut by the kill.
  const lines = out.split('\n').slice(0, -1).filter((l) => l !== 'ready');
  const acks: Acks = { created: Array<number>(WRITERS).fill(-1), counted: Array<number>(WRITERS).fill(-1), revisions: new Map(), perBatch: [] };
  const turns = new Map<string, number>();
  for (const l of lines) {
    const f = l.split(' ');
    if (f[0] === 'c') {
      const key = f[1] as string;
      const w = Number(/\/w(\d+)\//.exec(key)?.[1]);
      const i = Number(key.slice(key.lastIndexOf('/') + 1));
      acks.created[w] = Math.max(acks.created[w] as number, i);
      acks.revisions.set(key, Number(f[2]));
      turns.set(f[3] as string, (turns.get(f[3] as string) ?? 0) + 1);
    } else if (f[0] === 'u') {
      const w = Number(f[1]);
      acks.counted[w] = Math.max(acks.counted[w] as number, Number(f[2]));
      turns.set(f[4] as string, (turns.get(f[4] as string) ?? 0) + 1);
    } else {
      assert.fail(`unexpected writer output: ${l}`);
    }
  }
  acks.perBatch = [...turns.values()];
  return acks;
}

/** Every event in the change log, by replaying a watch from revision 0 up to `head`. */
async function replayLog(store: SqliteStore, head: number): Promise<StoreEvent[]> {
  const events: StoreEvent[] = [];
  let failed: Error | undefined;
  const w = store.watch('/', 0, { onEvent: (ev) => events.push(ev), onError: (err) => (failed = err) });
  try {
    await pollUntil('the change log replay', () => {
      if (failed) throw failed;
      const last = events[events.length - 1];
      return last !== undefined && (last.type === 'put' ? last.kv.modRevision : last.revision) >= head;
    }, { timeoutMs: 10_000, everyMs: 10 });
  } finally {
    w.cancel();
  }
  return events;
}

test('SIGKILL under group commit: every acknowledged write present, nothing half-present', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-crash-'));
  const path = join(dir, 'store.db');
  const child = spawn(process.execPath, [writerScript, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));

    await pollUntil('the writer to start', () => {
      if (child.exitCode !== null) throw new Error(`writer exited: ${err}`);
      return out.includes('ready\n');
    }, { timeoutMs: 15_000, everyMs: 20 });
    // Let it write for a while, then kill it mid-stream.
    await new Promise((r) => setTimeout(r, RUN_MS));
    assert.equal(child.exitCode, null, `writer stopped early: ${err}`);
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const acks = parseAcks(out);
    const total = acks.perBatch.reduce((a, b) => a + b, 0);
    const maxBatch = Math.max(...acks.perBatch);
    t.diagnostic(`${total} writes acknowledged in ${acks.perBatch.length} group commits (mean ${(total / acks.perBatch.length).toFixed(1)}, max ${maxBatch} per commit)`);
    assert.ok(total > 500, `too few writes acknowledged (${total}) to mean anything`);
    assert.ok(maxBatch >= WRITERS / 2, `group commit not exercised: at most ${maxBatch} writes per commit`);

    const store = SqliteStore.open(path);
    try {
      const head = await store.currentRevision();
      const state = new Map((await store.list('/crash/')).items.map((kv) => [kv.key, kv]));

      // Every acknowledged create is there, complete, at its revision.
      for (const [key, rev] of acks.revisions) {
        const kv = state.get(key);
        assert.ok(kv, `acknowledged key ${key} lost`);
        assert.equal(kv.value, valueFor(key), `${key} has a damaged value`);
        assert.equal(kv.modRevision, rev, `${key} at the wrong revision`);
      }
      // Per writer: keys 0..n present with complete values, at most one beyond the last ack;
      // the counter complete and between its last ack and the writer's newest key.
      for (let w = 0; w < WRITERS; w++) {
        let n = 0;
        while (state.has(keyFor(w, n))) n++;
        const present = [...state.keys()].filter((k) => k.startsWith(`/crash/w${String(w).padStart(2, '0')}/`) && k !== counterKey(w));
        assert.equal(present.length, n, `writer ${w}: keys present out of order`);
        for (const k of present) assert.equal(state.get(k)?.value, valueFor(k), `${k} damaged`);
        assert.ok(n - 1 <= (acks.created[w] as number) + 1, `writer ${w}: ${n - 1 - (acks.created[w] as number)} unacknowledged creates present`);
        const counter = state.get(counterKey(w));
        assert.ok(counter, `writer ${w}: counter lost`);
        const c = JSON.parse(counter.value) as { n: number };
        assert.equal(counter.value, counterValue(w, c.n), `writer ${w}: counter damaged`);
        assert.ok(c.n >= (acks.counted[w] as number), `writer ${w}: counter ${c.n} behind its acknowledged ${acks.counted[w]}`);
        assert.ok(c.n <= n - 1, `writer ${w}: counter ${c.n} ahead of its newest key ${n - 1}`);
      }

      // The change log, replayed from revision 0, has no gap and gives exactly the state.
      const events = await replayLog(store, head);
      const replayed = new Map<string, KeyValue>();
      events.forEach((ev, i) => {
        assert.equal(ev.type, 'put', 'nothing deletes in this test');
        if (ev.type !== 'put') return;
        assert.equal(ev.kv.modRevision, i + 1, `revision gap before ${ev.kv.modRevision}`);
        replayed.set(ev.kv.key, ev.kv);
      });
      assert.equal(events.length, head);
      assert.deepEqual(replayed, state);

      const next = await store.create('/crash/after', 'x');
      assert.equal(next.modRevision, head + 1);
    } finally {
      await store.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
