import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countSiblings, normalizeSpread, prepareSpread } from '../../../src/scheduler/plugins/spread.js';
import { bound, cacheWith, info, node, pod } from '../fixtures.js';

const owned = (name: string, uid = 'rs1') => pod(name, {}, { labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid, controller: true }] });

test('pods of the same owner spread: fewer siblings score higher', () => {
  const snap = cacheWith([node('n1'), node('n2'), node('n3')], [bound(owned('a'), 'n1'), bound(owned('b'), 'n1'), bound(owned('c'), 'n2'), bound(owned('z', 'other'), 'n3')]);
  const p = info(owned('p'));
  const st = prepareSpread(p, snap);
  const s = Float64Array.from(snap.nodeList.map((n) => countSiblings(p, n, st)));
  assert.deepEqual([...s], [2, 1, 0]);
  normalizeSpread(s);
  assert.deepEqual([...s], [0, 50, 100]);
});

test('Services selecting the pod define siblings too', () => {
  const snap = cacheWith([node('n1'), node('n2')], [bound(pod('a', {}, { labels: { app: 'web' } }), 'n1'), bound(pod('b', {}, { labels: { app: 'web' }, namespace: 'other' }), 'n2')]);
  const p = info(pod('p', {}, { labels: { app: 'web' } }));
  assert.equal(prepareSpread(p, snap), null, 'no owner, no service');
  snap.setService({ metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' } } });
  const st = prepareSpread(p, snap);
  assert.deepEqual(snap.nodeList.map((n) => countSiblings(p, n, st)), [1, 0]);
});

test('no siblings anywhere: every node scores 100', () => {
  const s = Float64Array.from([0, 0]);
  normalizeSpread(s);
  assert.deepEqual([...s], [100, 100]);
});
