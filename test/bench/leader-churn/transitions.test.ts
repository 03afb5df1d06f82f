import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeChurn, type LeaseSample } from '../../../bench/leader-churn/transitions.js';

const s = (at: number, holder: string, transitions: number, renewedAt?: number): LeaseSample => ({ at, holder, transitions, renewedAt });

test('summarizeChurn: a steady leader is no transition; holder or term changes are', () => {
  const steady = summarizeChurn([s(0, 'a', 3, 0), s(500, 'a', 3, 400), s(1000, 'a', 3, 700)]);
  assert.deepEqual(steady.changes, []);
  assert.equal(steady.leaseTransitionsDelta, 0);
  assert.equal(steady.maxLeaseAgeMs, 300);
  const churn = summarizeChurn([s(0, 'a', 0), s(500, 'b', 1), s(1000, 'b', 1), s(1500, 'b', 2)]);
  assert.deepEqual(churn.changes.map((c) => [c.from, c.to, c.transitionsTo]), [['a', 'b', 1], ['b', 'b', 2]]);
  assert.equal(churn.leaseTransitionsDelta, 2);
  assert.deepEqual(churn.holders, ['a', 'b']);
  assert.equal(summarizeChurn([]).samples, 0);
});
