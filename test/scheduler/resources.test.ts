import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, nodeAllocatable, podRequests } from '../../src/scheduler/resources.js';
import { node, pod } from './fixtures.js';

test('sums app containers and converts units', () => {
  const p = pod('a');
  p.spec!.containers = [
    { name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' } } },
    { name: 'b', resources: { requests: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '1G' } } },
  ];
  const r = podRequests(p);
  assert.equal(r.milliCpu, 1250);
  assert.equal(r.memory, 64 * 2 ** 20 + 2 ** 30);
  assert.equal(r.pods, 1);
  assert.equal(r.scalar?.get('ephemeral-storage'), 1e9);
});

test('init containers: the max rule, with sidecars added', () => {
  const p = pod('a', { cpu: '100m' });
  p.spec!.initContainers = [{ name: 'big', resources: { requests: { cpu: '2' } } }, { name: 'small', resources: { requests: { cpu: '50m' } } }];
  assert.equal(podRequests(p).milliCpu, 2000);
  p.spec!.initContainers = [
    { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '300m' } } },
    { name: 'init', resources: { requests: { cpu: '500m' } } },
  ];
  // Sidecar runs with the app (100m + 300m) and with the later init (300m + 500m).
  assert.equal(podRequests(p).milliCpu, 800);
  p.spec!.overhead = { cpu: '10m' };
  assert.equal(podRequests(p).milliCpu, 810);
});

test('cpu rounds up to a millicore; nonZero fills unset requests', () => {
  assert.equal(podRequests(pod('a', { cpu: '100u' })).milliCpu, 1);
  const nz = podRequests(pod('a'), true);
  assert.equal(nz.milliCpu, DEFAULT_MILLI_CPU_REQUEST);
  assert.equal(nz.memory, DEFAULT_MEMORY_REQUEST);
  assert.equal(podRequests(pod('a')).milliCpu, 0);
});

test('node allocatable, falling back to capacity', () => {
  const a = nodeAllocatable(node('n', { cpu: '3500m', memory: '2Gi', pods: '10' }));
  assert.deepEqual([a.milliCpu, a.memory, a.pods], [3500, 2 ** 31, 10]);
  const c = nodeAllocatable({ metadata: { name: 'x' }, status: { capacity: { cpu: '2' } } });
  assert.equal(c.milliCpu, 2000);
});
