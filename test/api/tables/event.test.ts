import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coreEventPrinter, eventsV1EventPrinter } from '../../../src/api/tables/event.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (sec: number): string => new Date(NOW - sec * 1000).toISOString();

test('columns in the 1.32 order, wide ones marked', () => {
  assert.deepEqual(coreEventPrinter.columns.map((c) => [c.name, c.priority]), [
    ['Last Seen', 0], ['Type', 0], ['Reason', 0], ['Object', 0], ['Subobject', 1], ['Source', 1],
    ['Message', 0], ['First Seen', 1], ['Count', 1], ['Name', 1],
  ]);
  assert.equal(coreEventPrinter.columns.find((c) => c.name === 'Name')?.format, 'name');
});

test('core/v1 event with timestamps and source', () => {
  const ev = {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
    type: 'Warning', reason: 'BackOff', message: '  Back-off restarting failed container\n',
    source: { component: 'kubelet', host: 'n1' }, firstTimestamp: ago(600), lastTimestamp: ago(25), count: 7,
  };
  assert.deepEqual(coreEventPrinter.row(ev as KubeObject, { now: NOW }).cells,
    ['25s', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{web}', 'kubelet, n1', 'Back-off restarting failed container', '10m', 7, 'web-1.17a']);
});

test('fallbacks: eventTime, missing last timestamp, series, zero count, reporting fields', () => {
  const ev = {
    metadata: { name: 'e' }, involvedObject: { kind: 'Node' }, type: 'Normal', reason: 'Starting', message: 'm',
    eventTime: ago(130), reportingComponent: 'trireme-agent', reportingInstance: 'n2',
  };
  assert.deepEqual(coreEventPrinter.row(ev as KubeObject, { now: NOW }).cells,
    ['2m10s', 'Normal', 'Starting', 'node', '', 'trireme-agent, n2', 'm', '2m10s', 1, 'e']);
  const series = { ...ev, series: { count: 12, lastObservedTime: ago(3) } };
  const cells = coreEventPrinter.row(series as KubeObject, { now: NOW }).cells;
  assert.equal(cells[0], '3s');
  assert.equal(cells[8], 12);
  const noTimes = { metadata: { name: 'z' }, involvedObject: { kind: 'Pod', name: 'p' }, source: { component: 'scheduler' } };
  assert.deepEqual(coreEventPrinter.row(noTimes as KubeObject, { now: NOW }).cells.slice(0, 8),
    ['<unknown>', '', '', 'pod/p', '', 'scheduler', '', '<unknown>']);
});

test('events.k8s.io/v1 event maps regarding, note and deprecated fields', () => {
  const ev = {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'rs.1' },
    regarding: { kind: 'ReplicaSet', name: 'web-5d9' }, note: 'Created pod: web-5d9-abc', type: 'Normal', reason: 'SuccessfulCreate',
    reportingController: 'replicaset-controller', reportingInstance: '', eventTime: ago(300),
    deprecatedSource: { component: 'replicaset-controller' }, deprecatedFirstTimestamp: ago(300), deprecatedLastTimestamp: ago(60), deprecatedCount: 2,
  };
  assert.deepEqual(eventsV1EventPrinter.row(ev as KubeObject, { now: NOW }).cells,
    ['60s', 'Normal', 'SuccessfulCreate', 'replicaset/web-5d9', '', 'replicaset-controller', 'Created pod: web-5d9-abc', '5m', 2, 'rs.1']);
  const singleton = { metadata: { name: 's' }, regarding: { kind: 'Pod', name: 'p' }, eventTime: ago(5), reportingController: 'c', reportingInstance: 'i' };
  assert.deepEqual(eventsV1EventPrinter.row(singleton as KubeObject, { now: NOW }).cells,
    ['5s', '', '', 'pod/p', '', 'c, i', '', '5s', 1, 's']);
});
