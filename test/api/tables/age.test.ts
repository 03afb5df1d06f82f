import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, shortHumanDuration, since } from '../../../src/api/tables/age.js';
import { parseKubeTime } from '../../../src/api/time.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

test('humanDuration buckets match Kubernetes', () => {
  const cases: [number, string][] = [
    [0, '0s'], [-1 * s, '0s'], [-1500, '0s'], [-2 * s, '<invalid>'],
    [5 * s, '5s'], [5 * s + 999, '5s'], [119 * s, '119s'], [2 * m, '2m'], [200 * s, '3m20s'],
    [9 * m + 59 * s, '9m59s'], [10 * m, '10m'], [10 * m + 30 * s, '10m'], [179 * m, '179m'],
    [3 * h, '3h'], [3 * h + 5 * m, '3h5m'], [7 * h + 59 * m, '7h59m'], [8 * h + 30 * m, '8h'], [47 * h, '47h'],
    [48 * h, '2d'], [51 * h, '2d3h'], [7 * d + 23 * h, '7d23h'], [8 * d + 5 * h, '8d'], [729 * d, '729d'],
    [730 * d, '2y'], [731 * d, '2y1d'], [8 * 365 * d, '8y'], [9 * 365 * d + 100 * d, '9y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `humanDuration(${ms})`);
});

test('shortHumanDuration uses a single unit', () => {
  const cases: [number, string][] = [
    [-3 * s, '<invalid>'], [-1 * s, '0s'], [0, '0s'], [59 * s, '59s'], [60 * s, '1m'], [59 * m, '59m'],
    [60 * m, '1h'], [23 * h, '23h'], [24 * h, '1d'], [364 * d, '364d'], [365 * d, '1y'], [800 * d, '2y'],
  ];
  for (const [ms, want] of cases) assert.equal(shortHumanDuration(ms), want, `shortHumanDuration(${ms})`);
});

test('since measures from an RFC 3339 timestamp to now', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(since('2024-05-01T11:56:40Z', now), '3m20s');
  assert.equal(since('2024-04-29T09:00:00Z', now), '2d3h');
  assert.equal(since('2024-05-01T12:00:10Z', now), '<invalid>');
  assert.equal(since(undefined, now), '<unknown>');
  assert.equal(since(null, now), '<unknown>');
  assert.equal(since('not a time', now), '<unknown>');
  assert.equal(parseKubeTime(''), undefined);
});
