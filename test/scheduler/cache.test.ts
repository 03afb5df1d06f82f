import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterCache } from '../../src/scheduler/cache.js';
import { bound, info, node, pod } from './fixtures.js';

test('an assumed pod counts until confirmed or forgotten', () => {
  const c = new ClusterCache();
  c.setNode(node('n1'));
  c.setNode(node('n2'));
  const p = pod('a', { cpu: '1' });
  c.assume(info(p), 'n1');
  assert.equal(c.getNode('n1')?.requested.milliCpu, 1000);
  c.setPod(p); // the informer still shows it pending: the assumption stays
  assert.deepEqual(c.podState('default/a'), { nodeName: 'n1', assumed: true });
  c.setPod(bound(p, 'n1'));
  assert.deepEqual(c.podState('default/a'), { nodeName: 'n1', assumed: false });
  c.forget('default/a'); // confirmed pods are not forgotten
  assert.equal(c.getNode('n1')?.requested.milliCpu, 1000);

  const b = pod('b', { cpu: '1' });
  c.assume(info(b), 'n1');
  c.forget('default/b');
  assert.equal(c.getNode('n1')?.requested.milliCpu, 1000);
  // Bound elsewhere than assumed: moves.
  c.assume(info(b), 'n1');
  c.setPod(bound(b, 'n2'));
  assert.equal(c.getNode('n1')?.requested.milliCpu, 1000);
  assert.equal(c.getNode('n2')?.requested.milliCpu, 1000);
});

test('terminal and deleted pods stop counting', () => {
  const c = new ClusterCache();
  c.setNode(node('n1'));
  const p = bound(pod('a', { cpu: '1' }), 'n1');
  c.setPod(p);
  c.setPod({ ...p, status: { phase: 'Succeeded' } });
  assert.equal(c.getNode('n1')?.requested.milliCpu, 0);
  c.setPod(p);
  c.removePod('default/a');
  assert.equal(c.podCount, 0);
});

test('pods on a node not yet seen count once it appears; nodes list in name order', () => {
  const c = new ClusterCache();
  c.setPod(bound(pod('a', { cpu: '1' }), 'late'));
  assert.equal(c.getNode('late'), undefined);
  c.setNode(node('zz'));
  c.setNode(node('late'));
  assert.equal(c.getNode('late')?.requested.milliCpu, 1000);
  assert.deepEqual(c.nodeList.map((n) => n.name), ['late', 'zz']);
  c.removeNode('late');
  assert.deepEqual(c.nodeList.map((n) => n.name), ['zz']);
});
