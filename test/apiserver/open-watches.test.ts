// OpenWatches: one server's registry of open streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenWatches } from '../../src/apiserver/open-watches.js';

test('endAll ends only its own streams, once, and a stream opened afterwards is ended at once', () => {
  const mine = new OpenWatches();
  const other = new OpenWatches();
  const ended: string[] = [];
  const streamOf = (name: string, reg: OpenWatches) => {
    const end = () => { ended.push(name); reg.delete(end); };
    reg.add(end);
    return end;
  };
  streamOf('a1', mine);
  streamOf('a2', mine);
  const gone = streamOf('a3', mine);
  streamOf('b1', other);
  gone(); // a stream that ended by itself is no longer registered
  assert.deepEqual(ended, ['a3']);
  assert.equal(mine.size, 2);
  mine.endAll();
  assert.deepEqual(ended, ['a3', 'a1', 'a2']);
  assert.equal(mine.size, 0);
  assert.equal(other.size, 1, "the other server's stream is untouched");
  streamOf('late', mine);
  assert.deepEqual(ended, ['a3', 'a1', 'a2', 'late']);
  assert.equal(mine.size, 0);
});
