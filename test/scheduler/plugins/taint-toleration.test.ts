import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countIntolerablePreferNoSchedule, filterTaintToleration, normalizeTaintScores, toleratesTaint } from '../../../src/scheduler/plugins/taint-toleration.js';
import { info, node, nodeInfo, pod } from '../fixtures.js';

const gpu = { key: 'gpu', value: 'yes', effect: 'NoSchedule' as const };

test('toleration matching', () => {
  assert.ok(toleratesTaint([{ key: 'gpu', operator: 'Equal', value: 'yes', effect: 'NoSchedule' }], gpu));
  assert.ok(toleratesTaint([{ key: 'gpu', value: 'yes' }], gpu), 'operator defaults to Equal, empty effect matches all');
  assert.ok(toleratesTaint([{ key: 'gpu', operator: 'Exists' }], gpu));
  assert.ok(toleratesTaint([{ operator: 'Exists' }], gpu), 'empty key + Exists tolerates everything');
  assert.ok(!toleratesTaint([{ key: 'gpu', value: 'no' }], gpu));
  assert.ok(!toleratesTaint([{ key: 'gpu', operator: 'Exists', effect: 'NoExecute' }], gpu));
  assert.ok(!toleratesTaint([], gpu));
});

test('NoSchedule and NoExecute must be tolerated; PreferNoSchedule never rejects', () => {
  const n = nodeInfo(node('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }, gpu] }));
  assert.equal(filterTaintToleration(info(pod('p')), n), 'node(s) had untolerated taint {gpu: yes}');
  assert.equal(filterTaintToleration(info(pod('p', { tolerations: [{ key: 'gpu', operator: 'Exists' }] })), n), null);
  const ne = nodeInfo(node('n', { taints: [{ key: 'dead', effect: 'NoExecute' }] }));
  assert.equal(filterTaintToleration(info(pod('p')), ne), 'node(s) had untolerated taint {dead: }');
  assert.equal(filterTaintToleration(info(pod('p')), nodeInfo(node('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }))), null);
});

test('PreferNoSchedule lowers the score', () => {
  const p = info(pod('p'));
  const counts = Float64Array.from([
    countIntolerablePreferNoSchedule(p, nodeInfo(node('a'))),
    countIntolerablePreferNoSchedule(p, nodeInfo(node('b', { taints: [{ key: 's1', effect: 'PreferNoSchedule' }] }))),
    countIntolerablePreferNoSchedule(p, nodeInfo(node('c', { taints: [{ key: 's1', effect: 'PreferNoSchedule' }, { key: 's2', effect: 'PreferNoSchedule' }] }))),
  ]);
  assert.deepEqual([...counts], [0, 1, 2]);
  normalizeTaintScores(counts);
  assert.deepEqual([...counts], [100, 50, 0]);
  const none = Float64Array.from([0, 0]);
  normalizeTaintScores(none);
  assert.deepEqual([...none], [100, 100]);
});
