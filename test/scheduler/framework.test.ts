import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitErrorMessage } from '../../src/scheduler/fit-error.js';
import { Framework, numFeasibleNodesToFind } from '../../src/scheduler/framework.js';
import { bound, cacheWith, info, node, pod } from './fixtures.js';

const HOST = 'kubernetes.io/hostname';
const web = (name: string) => pod(name, { cpu: '1', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: HOST, labelSelector: { matchLabels: { app: 'web' } } }] } } }, { labels: { app: 'web' } });

test('the summary message counts each node under its first failing filter', () => {
  const snap = cacheWith([node('n1', { cpu: '4' }), node('n2', { cpu: '1' }), node('n3', { cpu: '1' })], [bound(web('w1'), 'n1'), bound(pod('x', { cpu: '500m' }), 'n2'), bound(pod('y', { cpu: '500m' }), 'n3')]);
  const r = new Framework().schedule(info(web('w2')), snap);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && fitErrorMessage(r.error), "0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 Insufficient cpu.");
});

test('picks the best-scoring feasible node', () => {
  const snap = cacheWith([node('busy'), node('free'), node('tainted', { taints: [{ key: 'k', effect: 'NoSchedule' }] })], [bound(pod('x', { cpu: '3' }), 'busy')]);
  const r = new Framework().schedule(info(pod('p', { cpu: '500m' })), snap);
  assert.deepEqual(r.ok && [r.nodeName, r.feasibleNodes], ['free', 2]);
});

test('preferred node affinity outweighs a little free capacity', () => {
  const snap = cacheWith([node('a'), node('b', { labels: { disk: 'ssd' } })], [bound(pod('x', { cpu: '1' }), 'b')]);
  const p = info(pod('p', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }] } } }));
  const r = new Framework().schedule(p, snap);
  assert.equal(r.ok && r.nodeName, 'b');
});

test('assumed pods count, so replicas spread and fill nodes in turn', () => {
  const snap = cacheWith([node('n1', { pods: '2' }), node('n2', { pods: '2' })]);
  const fw = new Framework({ random: () => 0.99 });
  const placed: string[] = [];
  for (let i = 0; i < 4; i++) {
    const p = info(pod(`p${i}`, {}, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs', controller: true }] }));
    const r = fw.schedule(p, snap);
    assert.ok(r.ok);
    snap.assume(p, r.nodeName);
    placed.push(r.nodeName);
  }
  assert.deepEqual(placed.sort(), ['n1', 'n1', 'n2', 'n2']);
  const r = fw.schedule(info(pod('p5')), snap);
  assert.equal(!r.ok && fitErrorMessage(r.error), '0/2 nodes are available: 2 Too many pods.');
});

test('number of feasible nodes to find (kube-scheduler rule)', () => {
  assert.equal(numFeasibleNodesToFind(50), 50);
  assert.equal(numFeasibleNodesToFind(1000), 420);
  assert.equal(numFeasibleNodesToFind(5000), 500);
  assert.equal(numFeasibleNodesToFind(200, 10), 100);
  assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
});

test('large clusters stop early and rotate the starting node', () => {
  const nodes = Array.from({ length: 300 }, (_, i) => node(`n${String(i).padStart(3, '0')}`));
  const snap = cacheWith(nodes);
  const fw = new Framework();
  const r1 = fw.schedule(info(pod('a')), snap);
  const r2 = fw.schedule(info(pod('b')), snap);
  assert.ok(r1.ok && r2.ok);
  assert.equal(r1.evaluatedNodes, 144);
  assert.equal(r1.feasibleNodes, 144);
  assert.notEqual(r1.nodeName, r2.nodeName);
});
