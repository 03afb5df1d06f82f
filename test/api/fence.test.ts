import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFence, parseFence, type Fence } from '../../src/api/fence.js';

test('formatFence writes <namespace>/<name>;<identity>;<transitions>', () => {
  assert.equal(formatFence({ lease: { namespace: 'kube-system', name: 'kube-scheduler' }, identity: 'host_ab12', transitions: 3 }), 'kube-system/kube-scheduler;host_ab12;3');
});

test('parseFence inverts formatFence, also for parts holding ; / % and spaces', () => {
  const fences: Fence[] = [
    { lease: { namespace: 'kube-system', name: 'kube-controller-manager' }, identity: 'node-1_0a1b2c', transitions: 0 },
    { lease: { namespace: 'a/b', name: 'c;d' }, identity: 'x;y/z %41 ü', transitions: 12345 },
  ];
  for (const f of fences) assert.deepEqual(parseFence(formatFence(f)), f);
});

test('parseFence rejects malformed tokens', () => {
  for (const bad of ['', 'kube-system/x;id', 'kube-system;id;1', 'a/b/c;id;1', 'a/b;id;-1', 'a/b;id;1.5', 'a/b;id;01', 'a/b;id;x', 'a/b;;1', '/b;id;1', 'a/b;%;1', 'a/b;id;1;2']) {
    assert.equal(parseFence(bad), undefined, bad);
  }
});
