import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterResourcesFit } from '../../../src/scheduler/plugins/resources-fit.js';
import { info, node, nodeInfo, pod } from '../fixtures.js';

test('fits within allocatable minus what is placed', () => {
  const n = nodeInfo(node('n', { cpu: '2', memory: '1Gi' }), pod('x', { cpu: '1500m', memory: '512Mi' }));
  assert.equal(filterResourcesFit(info(pod('p', { cpu: '500m', memory: '512Mi' })), n), null);
  assert.deepEqual(filterResourcesFit(info(pod('p', { cpu: '501m' })), n), ['Insufficient cpu']);
  assert.deepEqual(filterResourcesFit(info(pod('p', { cpu: '1', memory: '1Gi' })), n), ['Insufficient cpu', 'Insufficient memory']);
});

test('pod count and extended resources', () => {
  const full = nodeInfo(node('n', { pods: '1' }), pod('x'));
  assert.deepEqual(filterResourcesFit(info(pod('p')), full), ['Too many pods']);
  const gpuPod = pod('p');
  gpuPod.spec!.containers[0]!.resources = { requests: { 'example.com/gpu': '1' } };
  assert.deepEqual(filterResourcesFit(info(gpuPod), nodeInfo(node('n'))), ['Insufficient example.com/gpu']);
  const withGpu = node('n');
  withGpu.status!.allocatable!['example.com/gpu'] = '2';
  assert.equal(filterResourcesFit(info(gpuPod), nodeInfo(withGpu)), null);
});

test('a pod without requests fits even an overcommitted node', () => {
  const n = nodeInfo(node('n', { cpu: '1' }), pod('x', { cpu: '2' }));
  assert.equal(filterResourcesFit(info(pod('p')), n), null);
});
