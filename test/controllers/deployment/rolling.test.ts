import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newReplicaSetReplicas, proportionalScale, resolveFenceposts, scaleDownOldReplicaSets } from '../../../src/controllers/deployment/rolling.js';

describe('resolveFenceposts: surge rounds up, unavailable rounds down', () => {
  const table: [number, number | string | undefined, number | string | undefined, number, number][] = [
    // replicas, maxSurge, maxUnavailable → surge, unavailable
    [10, '25%', '25%', 3, 2],
    [3, '25%', '25%', 1, 0],
    [1, '25%', '25%', 1, 0],
    [4, '50%', '50%', 2, 2],
    [5, 2, '10%', 2, 0],
    [3, 1, 0, 1, 0],
    [3, 0, 0, 0, 1], // both zero: one may be unavailable, or nothing could move
    [3, '0%', '0%', 0, 1],
    [10, undefined, undefined, 3, 2], // defaults 25%/25%
    [2, 0, 5, 0, 2], // never more unavailable than replicas
  ];
  for (const [replicas, surge, unavail, wantSurge, wantUnavail] of table) {
    it(`replicas=${replicas} maxSurge=${String(surge)} maxUnavailable=${String(unavail)}`, () => {
      assert.deepEqual(resolveFenceposts(surge, unavail, replicas), { maxSurge: wantSurge, maxUnavailable: wantUnavail });
    });
  }
});

describe('newReplicaSetReplicas: scale up the new set within replicas + maxSurge', () => {
  const table: [number, number, number, number, number][] = [
    // replicas, maxSurge, all sets' replicas, new set's replicas → new set's target
    [3, 1, 3, 0, 1],
    [3, 1, 4, 1, 1], // at the ceiling: wait for old pods to go
    [3, 0, 3, 0, 0], // no surge: old pods must go first
    [10, 3, 10, 0, 3],
    [10, 3, 8, 5, 10],
    [3, 1, 2, 3, 3], // never above replicas
    [5, 5, 0, 0, 5],
  ];
  for (const [replicas, surge, all, cur, want] of table) {
    it(`replicas=${replicas} surge=${surge} all=${all} new=${cur} → ${want}`, () => {
      assert.equal(newReplicaSetReplicas(replicas, surge, all, cur), want);
    });
  }
});

describe('scaleDownOldReplicaSets: keep replicas − maxUnavailable available', () => {
  const rs = (name: string, replicas: number, available: number, created = 0) => ({ name, replicas, available, created });
  it('maxUnavailable 0: nothing goes while new pods are unavailable', () => {
    assert.deepEqual([...scaleDownOldReplicaSets(3, 0, rs('new', 3, 0), [rs('old', 3, 3)])], []);
  });
  it('maxUnavailable 0: one old pod per available new pod', () => {
    assert.deepEqual([...scaleDownOldReplicaSets(3, 0, rs('new', 1, 1), [rs('old', 3, 3)])], [['old', 2]]);
  });
  it('maxUnavailable 2 of 10: two old pods go at once', () => {
    assert.deepEqual([...scaleDownOldReplicaSets(10, 2, rs('new', 3, 0), [rs('old', 10, 10)])], [['old', 8]]);
  });
  it('unhealthy old pods go first, then available ones within the budget, oldest set first', () => {
    const out = scaleDownOldReplicaSets(4, 1, rs('new', 2, 2), [rs('b', 2, 2, 2), rs('a', 2, 0, 1)]);
    assert.deepEqual([...out].sort(), [['a', 0], ['b', 1]]);
  });
  it('nothing to do without old pods', () => {
    assert.equal(scaleDownOldReplicaSets(3, 1, rs('new', 3, 3), [rs('old', 0, 0)]).size, 0);
  });
  it('Recreate-like budget (maxUnavailable = replicas) removes every old pod', () => {
    assert.deepEqual([...scaleDownOldReplicaSets(3, 3, rs('new', 0, 0), [rs('old', 3, 3)])], [['old', 0]]);
  });
});

describe('proportionalScale', () => {
  const s = (name: string, replicas: number, max: number | undefined, created: number) => ({ name, replicas, maxReplicasAnnotation: max, created });
  it('doubles each set when the allowed size doubles', () => {
    const out = proportionalScale(26, [s('old', 8, 13, 1), s('new', 5, 13, 2)]);
    assert.deepEqual(Object.fromEntries(out), { old: 16, new: 10 });
  });
  it('halves each set when the allowed size halves', () => {
    const out = proportionalScale(13, [s('old', 16, 26, 1), s('new', 10, 26, 2)]);
    assert.deepEqual(Object.fromEntries(out), { old: 8, new: 5 });
  });
  it('gives the rounding leftover to the largest set (newest on ties when growing)', () => {
    const out = proportionalScale(10, [s('a', 3, 9, 1), s('b', 3, 9, 2), s('c', 3, 9, 3)]);
    assert.deepEqual(Object.fromEntries(out), { a: 3, b: 3, c: 4 });
  });
  it('keeps the total equal to the allowed size', () => {
    const out = proportionalScale(7, [s('a', 5, undefined, 1), s('b', 4, undefined, 2)]);
    assert.equal([...out.values()].reduce((x, y) => x + y, 0), 7);
  });
});
