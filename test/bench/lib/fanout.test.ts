import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FanoutRecorder, LineSplitter, parseWatchLine } from '../../../bench/lib/fanout.js';

test('delays are per (write, watcher) pair, measured from the ack', () => {
  const r = new FanoutRecorder(2);
  r.expect('a');
  r.ack('a', 100);
  r.event(0, 'a', 101);
  r.event(1, 'a', 110);
  assert.equal(r.pending(), 0);
  const res = r.result();
  assert.equal(res.writes, 1);
  assert.equal(res.pairs, 2);
  assert.equal(res.missing, 0);
  assert.equal(res.delay.count, 2);
  assert.equal(res.delay.p50Ms, 1);
  assert.equal(res.delay.maxMs, 10);
  assert.equal(res.allWatchersDelay.p99Ms, 10);
});

test('an event before the ack counts as 0 and is reported', () => {
  const r = new FanoutRecorder(1);
  r.expect('a');
  r.event(0, 'a', 95);
  r.ack('a', 100);
  const res = r.result();
  assert.equal(res.beforeAck, 1);
  assert.equal(res.delay.maxMs, 0);
});

test('missing events, duplicates, unknown names and failed writes', () => {
  const r = new FanoutRecorder(3);
  r.expect('a');
  r.expect('failed'); // never acked: not measured
  r.ack('a', 0);
  r.event(0, 'a', 5);
  r.event(0, 'a', 50); // duplicate: first one counts
  r.event(1, 'a', 7);
  r.event(2, 'warmup', 1); // not expected: ignored
  r.event(7, 'a', 1); // no such watcher: ignored
  assert.equal(r.pending(), 1 + 3);
  const res = r.result();
  assert.equal(res.writes, 1);
  assert.equal(res.missing, 1);
  assert.equal(res.delay.count, 2);
  assert.equal(res.delay.maxMs, 7);
  // The write was not seen by every watcher, so it has no all-watchers delay.
  assert.equal(res.allWatchersDelay.count, 0);
});

test('LineSplitter keeps partial lines until completed', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
  assert.deepEqual(s.push(':2}\n\n'), ['{"b":2}']);
  assert.deepEqual(s.push('x'), []);
  assert.deepEqual(s.push('\n'), ['x']);
});

test('parseWatchLine extracts type and name, rejects junk', () => {
  assert.deepEqual(parseWatchLine('{"type":"ADDED","object":{"metadata":{"name":"n1"}}}'), { type: 'ADDED', name: 'n1' });
  assert.deepEqual(parseWatchLine('{"type":"BOOKMARK","object":{"metadata":{}}}'), { type: 'BOOKMARK', name: undefined });
  assert.equal(parseWatchLine('not json'), undefined);
  assert.equal(parseWatchLine('[1]'), undefined);
  assert.equal(parseWatchLine('null'), undefined);
});
