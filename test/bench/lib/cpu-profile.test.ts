import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortUrl, summarizeProfile, type CpuProfile } from '../../../bench/lib/cpu-profile.js';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

test('self time adds the interval after each sample to its node', () => {
  const p: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '') },
      { id: 2, callFrame: frame('(idle)', '') },
      { id: 3, callFrame: frame('handle', 'file:///r/dist/src/apiserver/handler.js', 9) },
      { id: 4, callFrame: frame('stringify', 'file:///r/node_modules/pino/lib/x.js', 0) },
    ],
    samples: [3, 3, 4, 2, 3],
    timeDeltas: [0, 1000, 1000, 2000, 4000],
    startTime: 0,
    endTime: 8000,
  };
  const s = summarizeProfile(p);
  assert.equal(s.totalMs, 8);
  assert.equal(s.idlePct, 50);
  // handle: 1000 (after 1st) + 1000 (after 2nd) + 0 (last sample) = 2 ms; pino 2 ms; idle 4 ms.
  assert.deepEqual(s.functions.map((f) => [f.name, f.selfMs]), [['(idle)', 4], ['handle src/apiserver/handler.js:10', 2], ['stringify pino:1', 2]]);
  assert.deepEqual(s.files.find((f) => f.name === 'pino'), { name: 'pino', selfMs: 2, sharePct: 25 });
});

test('shortUrl names packages and build-relative paths', () => {
  assert.equal(shortUrl('file:///w/node_modules/@peculiar/x509/build/a.js'), '@peculiar/x509');
  assert.equal(shortUrl('file:///w/node_modules/better-sqlite3/lib/db.js'), 'better-sqlite3');
  assert.equal(shortUrl('file:///w/dist/src/storage/sqlite.js'), 'src/storage/sqlite.js');
  assert.equal(shortUrl('file:///w/.build/me/src/a.js'), 'src/a.js');
  assert.equal(shortUrl('node:internal/tls/wrap'), 'node:internal/tls/wrap');
  assert.equal(shortUrl(''), '(native)');
});
