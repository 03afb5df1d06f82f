import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scoreLeastAllocated } from '../../../src/scheduler/plugins/least-allocated.js';
import { info, node, nodeInfo, pod } from '../fixtures.js';

test('more free capacity scores higher', () => {
  const p = info(pod('p', { cpu: '1', memory: '1Gi' }));
  const empty = nodeInfo(node('a', { cpu: '4', memory: '4Gi' }));
  const busy = nodeInfo(node('b', { cpu: '4', memory: '4Gi' }), pod('x', { cpu: '2', memory: '2Gi' }));
  assert.equal(scoreLeastAllocated(p, empty), 75);
  assert.equal(scoreLeastAllocated(p, busy), 25);
});

test('pods without requests count with defaults; overfull scores 0', () => {
  const n = nodeInfo(node('a', { cpu: '1000m', memory: '1Gi' }));
  const s = scoreLeastAllocated(info(pod('p')), n);
  assert.ok(Math.abs(s - ((90 + (100 * (1024 - 200)) / 1024) / 2)) < 1e-9);
  assert.equal(scoreLeastAllocated(info(pod('p', { cpu: '2', memory: '2Gi' })), n), 0);
});
