import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FakeClock } from '../../../src/util/clock.js';
import { ContainerLogWriter, rotateForNewInstance } from '../../../src/agent/logs/writer.js';
import { logsMissing, readLogs } from '../../../src/agent/logs/reader.js';
import { pollUntil } from '../../../src/util/poll.js';

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0, 0);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'logr-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function all(r: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes lines one second apart, starting at T0. */
function writeLines(dir: string, clock: FakeClock, lines: string[], opts: { maxBytes?: number } = {}): ContainerLogWriter {
  const w = new ContainerLogWriter(dir, { clock, ...opts });
  for (const l of lines) {
    w.write('stdout', Buffer.from(`${l}\n`));
    clock.advance(1000);
  }
  return w;
}

const stopped = (dir: string, clock: FakeClock) => ({ logDir: dir, isRunning: () => false, clock });

test('all, tail, since, timestamps, limitBytes', async () => {
  await withDir(async (dir) => {
    const clock = new FakeClock(T0);
    const w = writeLines(dir, clock, ['a', 'b', 'c', 'd']);
    w.write('stderr', Buffer.from('partial'));
    w.close();
    const src = stopped(dir, clock);
    assert.equal(await all(readLogs(src)), 'a\nb\nc\nd\npartial');
    assert.equal(await all(readLogs(src, { tailLines: 2 })), 'd\npartial');
    assert.equal(await all(readLogs(src, { tailLines: 0 })), '');
    // The clock is at T0+4s: c (written at T0+2s) is exactly 2 s old, so it is kept.
    assert.equal(await all(readLogs(src, { sinceSeconds: 2 })), 'c\nd\npartial');
    assert.equal(await all(readLogs(src, { sinceTime: T0 + 3000 })), 'd\npartial');
    assert.equal(await all(readLogs(src, { tailLines: 3, sinceTime: T0 + 3000 })), 'd\npartial');
    assert.equal(await all(readLogs(src, { timestamps: true, tailLines: 2 })),
      '2024-05-01T10:00:03Z d\n2024-05-01T10:00:04Z partial');
    assert.equal(await all(readLogs(src, { limitBytes: 5 })), 'a\nb\nc');
    assert.equal(await all(readLogs(src, { limitBytes: 1000 })), 'a\nb\nc\nd\npartial');
  });
});

test('reads across a size rotation; previous reads the last instance', async () => {
  await withDir(async (dir) => {
    const clock = new FakeClock(T0);
    const lines = Array.from({ length: 10 }, (_, i) => `line-${i}`);
    writeLines(dir, clock, lines, { maxBytes: 200 }).close();
    const src = stopped(dir, clock);
    const got = (await all(readLogs(src))).trim().split('\n');
    assert.ok(got.length >= 4 && got.length < 10, `rotation keeps some: ${got.length}`);
    assert.deepEqual(got, lines.slice(-got.length));
    assert.equal(await logsMissing(dir, true), true);
    rotateForNewInstance(dir);
    writeLines(dir, clock, ['new']).close();
    assert.equal(await logsMissing(dir, true), false);
    assert.equal(await all(readLogs(src)), 'new\n');
    assert.deepEqual((await all(readLogs(src, { previous: true }))).trim().split('\n'), got);
    assert.equal(await all(readLogs(src, { previous: true, tailLines: 1 })), 'line-9\n');
  });
});

test('malformed lines are skipped', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'current.log'), 'junk\n2024-05-01T10:00:00Z stdout F ok\n');
    assert.equal(await all(readLogs(stopped(dir, new FakeClock()))), 'ok\n');
  });
});

test('follow: streams new lines, survives rotation, ends when the container stopped and drained', async () => {
  await withDir(async (dir) => {
    let running = true;
    const w = new ContainerLogWriter(dir, { maxBytes: 300 });
    w.write('stdout', Buffer.from('before\n'));
    const stream = readLogs({ logDir: dir, isRunning: () => running, pollMs: 20 }, { follow: true });
    const received: string[] = [];
    stream.on('data', (c: Buffer) => received.push(c.toString()));
    const ended = new Promise<void>((r) => stream.on('end', r));
    await pollUntil('the line written before following', () => received.join('') === 'before\n', { timeoutMs: 5000, everyMs: 5 });
    for (let i = 0; i < 20; i++) {
      w.write('stdout', Buffer.from(`follow-${i}\n`));
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    w.write('stdout', Buffer.from('last words'));
    w.close();
    running = false;
    await ended;
    const text = received.join('');
    assert.ok(text.startsWith('before\nfollow-0\n'), text);
    assert.ok(text.endsWith('follow-19\nlast words'), text);
    // Every line that was still in a file when it was read came through in order, once.
    const nums = text.split('\n').filter((l) => l.startsWith('follow-')).map((l) => Number(l.slice(7)));
    assert.deepEqual(nums, [...nums].sort((a, b) => a - b));
    assert.equal(new Set(nums).size, nums.length);
    assert.equal(nums.at(-1), 19);
  });
});

test('follow keeps going when the file rotated twice between two looks (the lines in between are lost)', async () => {
  await withDir(async (dir) => {
    const clock = new FakeClock(T0);
    let running = true;
    const w = new ContainerLogWriter(dir, { clock, maxBytes: 200 });
    w.write('stdout', Buffer.from('first\n'));
    const stream = readLogs({ logDir: dir, isRunning: () => running, clock, pollMs: 100 }, { follow: true });
    const received: string[] = [];
    stream.on('data', (c: Buffer) => received.push(c.toString()));
    const ended = new Promise<void>((r) => stream.on('end', r));
    await pollUntil('the first line', () => received.join('') === 'first\n', { timeoutMs: 5000, everyMs: 5 });
    // The follower waits on the fake clock: everything below happens before it looks again.
    for (let i = 0; i < 30; i++) w.write('stdout', Buffer.from(`burst-${i}\n`));
    w.write('stdout', Buffer.from('after\n'));
    await pollUntil('the line after the burst', () => {
      clock.advance(100);
      return received.join('').endsWith('after\n');
    }, { timeoutMs: 5000, everyMs: 5 });
    running = false;
    w.close();
    await pollUntil('the end of the stream', async () => {
      clock.advance(100);
      return Promise.race([ended.then(() => true), new Promise<false>((r) => setImmediate(() => r(false)))]);
    }, { timeoutMs: 5000, everyMs: 5 });
    assert.ok(received.join('').startsWith('first\n'));
  });
});

test('follow ends when a new instance copies the rotated and current files into previous.log', async () => {
  await withDir(async (dir) => {
    const clock = new FakeClock(T0);
    const w = new ContainerLogWriter(dir, { clock, maxBytes: 200 });
    for (let i = 0; i < 8; i++) w.write('stdout', Buffer.from(`line-${i}\n`));
    const stream = readLogs({ logDir: dir, isRunning: () => true, clock, pollMs: 100 }, { follow: true });
    const received: string[] = [];
    stream.on('data', (c: Buffer) => received.push(c.toString()));
    const ended = new Promise<void>((r) => stream.on('end', r));
    await pollUntil('the last line', () => received.join('').endsWith('line-7\n'), { timeoutMs: 5000, everyMs: 5 });
    w.close();
    rotateForNewInstance(dir);
    const next = new ContainerLogWriter(dir, { clock });
    next.write('stdout', Buffer.from('new instance\n'));
    await pollUntil('the end of the stream', async () => {
      clock.advance(100);
      return Promise.race([ended.then(() => true), new Promise<false>((r) => setImmediate(() => r(false)))]);
    }, { timeoutMs: 5000, everyMs: 5 });
    next.close();
    assert.equal(received.join('').includes('new instance'), false, 'the new instance is not followed');
  });
});

test('follow ends when the followed file becomes previous.log, and when the client goes away', async () => {
  await withDir(async (dir) => {
    const w = new ContainerLogWriter(dir);
    w.write('stdout', Buffer.from('one\n'));
    const s1 = readLogs({ logDir: dir, isRunning: () => true, pollMs: 10 }, { follow: true });
    const got: string[] = [];
    s1.on('data', (c: Buffer) => got.push(c.toString()));
    const ended = new Promise<void>((r) => s1.on('end', r));
    // Only once the follower has the file open may the instance change.
    await pollUntil('the first line', () => got.join('') === 'one\n', { timeoutMs: 5000, everyMs: 5 });
    w.write('stdout', Buffer.from('two\n'));
    w.close();
    rotateForNewInstance(dir);
    new ContainerLogWriter(dir).close();
    await ended;
    assert.equal(got.join(''), 'one\ntwo\n');

    const s2 = readLogs({ logDir: dir, isRunning: () => true, pollMs: 10 }, { follow: true });
    const closed = new Promise<void>((r) => s2.on('close', r));
    s2.resume();
    await new Promise((r) => setTimeout(r, 30));
    s2.destroy();
    await closed;
  });
});

test('follow on a container that has not written yet waits for its file', async () => {
  await withDir(async (dir) => {
    let running = true;
    const s = readLogs({ logDir: dir, isRunning: () => running, pollMs: 10 }, { follow: true });
    const text = all(s);
    await new Promise((r) => setTimeout(r, 30));
    const w = new ContainerLogWriter(dir);
    w.write('stdout', Buffer.from('late\n'));
    w.close();
    await new Promise((r) => setTimeout(r, 50));
    running = false;
    assert.equal(await text, 'late\n');
  });
});
