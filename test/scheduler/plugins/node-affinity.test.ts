import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import { filterNodeAffinity, normalizeByMax, REASON_NODE_AFFINITY, requirementMatches, scoreNodeAffinity } from '../../../src/scheduler/plugins/node-affinity.js';
import { info, node, nodeInfo, pod } from '../fixtures.js';

const n = nodeInfo(node('n1', { labels: { zone: 'a', disk: 'ssd', cores: '16' } }));
const required = (...terms: NodeSelectorTerm[]) => info(pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } }));

test('nodeSelector must match every label', () => {
  assert.equal(filterNodeAffinity(info(pod('p', { nodeSelector: { zone: 'a' } })), n), null);
  assert.equal(filterNodeAffinity(info(pod('p', { nodeSelector: { zone: 'a', disk: 'hdd' } })), n), REASON_NODE_AFFINITY);
});

test('operators', () => {
  assert.ok(requirementMatches({ key: 'k', operator: 'In', values: ['a', 'b'] }, 'b'));
  assert.ok(!requirementMatches({ key: 'k', operator: 'In', values: ['a'] }, undefined));
  assert.ok(requirementMatches({ key: 'k', operator: 'NotIn', values: ['a'] }, undefined));
  assert.ok(!requirementMatches({ key: 'k', operator: 'NotIn', values: ['a'] }, 'a'));
  assert.ok(requirementMatches({ key: 'k', operator: 'Exists' }, ''));
  assert.ok(requirementMatches({ key: 'k', operator: 'DoesNotExist' }, undefined));
  assert.ok(requirementMatches({ key: 'k', operator: 'Gt', values: ['8'] }, '16'));
  assert.ok(!requirementMatches({ key: 'k', operator: 'Gt', values: ['16'] }, '16'));
  assert.ok(requirementMatches({ key: 'k', operator: 'Lt', values: ['20'] }, '16'));
  assert.ok(!requirementMatches({ key: 'k', operator: 'Lt', values: ['20'] }, 'x'));
});

test('required terms are ORed; requirements within a term ANDed; empty term matches nothing', () => {
  assert.equal(filterNodeAffinity(required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }), n), REASON_NODE_AFFINITY);
  assert.equal(filterNodeAffinity(required(
    { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
    { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Gt', values: ['8'] }] },
  ), n), null);
  assert.equal(filterNodeAffinity(required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'gpu', operator: 'Exists' }] }), n), REASON_NODE_AFFINITY);
  assert.equal(filterNodeAffinity(required({}), n), REASON_NODE_AFFINITY);
});

test('matchFields on metadata.name', () => {
  assert.equal(filterNodeAffinity(required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }), n), null);
  assert.equal(filterNodeAffinity(required({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }), n), REASON_NODE_AFFINITY);
  assert.equal(filterNodeAffinity(required({ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['n1'] }] }), n), REASON_NODE_AFFINITY);
});

test('preferred terms sum their weights; normalized by the max', () => {
  const p = info(pod('p', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
    { weight: 30, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
  ] } } }));
  const other = nodeInfo(node('n2', { labels: { zone: 'a' } }));
  const s = Float64Array.from([scoreNodeAffinity(p, n), scoreNodeAffinity(p, other), scoreNodeAffinity(p, nodeInfo(node('n3')))]);
  assert.deepEqual([...s], [40, 10, 0]);
  normalizeByMax(s);
  assert.deepEqual([...s], [100, 25, 0]);
});
