import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/util/clock.js';
import { ContainerLogWriter, rotateForNewInstance } from '../../../src/agent/logs/writer.js';
import { formatTimestamp, goRfc3339Nano, parseRecord, parseTimestamp } from '../../../src/agent/logs/cri.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'logw-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0, 120);

test('timestamps: fixed 9 digits written, Go formatting shown, any fraction parsed', () => {
  assert.equal(formatTimestamp(T0), '2024-05-01T10:00:00.120000000Z');
  assert.equal(goRfc3339Nano('2024-05-01T10:00:00.120000000Z'), '2024-05-01T10:00:00.12Z');
  assert.equal(goRfc3339Nano('2024-05-01T10:00:00.000000000Z'), '2024-05-01T10:00:00Z');
  assert.equal(parseTimestamp('2024-05-01T10:00:00.120456789Z'), T0);
  assert.equal(parseTimestamp('2024-05-01T12:00:00+02:00'), T0 - 120);
  assert.ok(Number.isNaN(parseTimestamp('yesterday')));
  const r = parseRecord(Buffer.from('2024-05-01T10:00:00.120000000Z stderr P a b '));
  assert.equal(r?.stream, 'stderr');
  assert.equal(r?.tag, 'P');
  assert.equal(r?.text.toString(), 'a b ');
  assert.equal(parseRecord(Buffer.from('2024-05-01T10:00:00Z stdout F'))?.text.length, 0);
  assert.equal(parseRecord(Buffer.from('garbage line here')), undefined);
});

test('lines become F records per stream; long lines and the unterminated tail become P', async () => {
  await withDir(async (dir) => {
    const clock = new FakeClock(T0);
    const w = new ContainerLogWriter(dir, { clock, maxLineBytes: 8 });
    w.write('stdout', Buffer.from('hello\nwor'));
    w.write('stderr', Buffer.from('err!\n'));
    clock.advance(1);
    w.write('stdout', Buffer.from('ld\n0123456789abc\nend'));
    w.close();
    w.write('stdout', Buffer.from('ignored after close\n'));
    const text = await readFile(join(dir, 'current.log'), 'utf8');
    assert.equal(text, [
      '2024-05-01T10:00:00.120000000Z stdout F hello',
      '2024-05-01T10:00:00.120000000Z stderr F err!',
      '2024-05-01T10:00:00.121000000Z stdout F world',
      '2024-05-01T10:00:00.121000000Z stdout P 01234567',
      '2024-05-01T10:00:00.121000000Z stdout F 89abc',
      '2024-05-01T10:00:00.121000000Z stdout P end',
      '',
    ].join('\n'));
  });
});

test('rotates by size keeping one rotated file; a new instance moves everything to previous.log', async () => {
  await withDir(async (dir) => {
    const clock = new FakeClock(T0);
    const w = new ContainerLogWriter(dir, { clock, maxBytes: 200 });
    // Each record is 31 + 1 + 10 + ... = 52 bytes for a 10-char line.
    for (let i = 0; i < 10; i++) w.write('stdout', Buffer.from(`line-${String(i).padStart(4, '0')}\n`));
    w.close();
    const cur = (await readFile(join(dir, 'current.log'), 'utf8')).trim().split('\n');
    const rot = (await readFile(join(dir, 'current.log.1'), 'utf8')).trim().split('\n');
    assert.ok(Buffer.byteLength(cur.join('\n')) <= 200);
    assert.deepEqual(cur.map((l) => l.slice(-9)), ['line-0008', 'line-0009']);
    assert.deepEqual(rot.map((l) => l.slice(-9)), ['line-0004', 'line-0005', 'line-0006', 'line-0007']);

    rotateForNewInstance(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['previous.log']);
    const prev = (await readFile(join(dir, 'previous.log'), 'utf8')).trim().split('\n');
    assert.deepEqual(prev.map((l) => l.slice(-9)), ['line-0004', 'line-0005', 'line-0006', 'line-0007', 'line-0008', 'line-0009']);

    // The next instance writes a fresh current.log; another restart replaces previous.log.
    const w2 = new ContainerLogWriter(dir, { clock });
    w2.write('stdout', Buffer.from('second\n'));
    w2.close();
    rotateForNewInstance(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['previous.log']);
    assert.match(await readFile(join(dir, 'previous.log'), 'utf8'), /stdout F second\n$/);
    // Nothing logged at all: nothing to rotate.
    rotateForNewInstance(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['previous.log']);
  });
});

test('a writer reopening an existing current.log appends and counts its size', async () => {
  await withDir(async (dir) => {
    const clock = new FakeClock(T0);
    const a = new ContainerLogWriter(dir, { clock, maxBytes: 100 });
    a.write('stdout', Buffer.from('first-line\n'));
    a.close();
    const b = new ContainerLogWriter(dir, { clock, maxBytes: 100 });
    b.write('stdout', Buffer.from('second-line\n'));
    b.close();
    assert.match(await readFile(join(dir, 'current.log.1'), 'utf8'), /first-line/);
    assert.match(await readFile(join(dir, 'current.log'), 'utf8'), /second-line/);
  });
});
