import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configMapPrinter, leasePrinter, namespacePrinter, secretPrinter, serviceAccountPrinter } from '../../../src/api/tables/simple.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const meta = (name: string) => ({ name, creationTimestamp: new Date(NOW - 90_000).toISOString() });
const cells = (p: { row: (o: KubeObject, c: { now: number }) => { cells: unknown[] } }, o: object): unknown[] => p.row(o as KubeObject, { now: NOW }).cells;

test('Namespace: NAME STATUS AGE', () => {
  assert.deepEqual(namespacePrinter.columns.map((c) => c.name), ['Name', 'Status', 'Age']);
  assert.deepEqual(cells(namespacePrinter, { metadata: meta('default'), status: { phase: 'Active' } }), ['default', 'Active', '90s']);
  assert.deepEqual(cells(namespacePrinter, { metadata: meta('gone'), status: { phase: 'Terminating' } }), ['gone', 'Terminating', '90s']);
});

test('ConfigMap: DATA counts data and binaryData keys', () => {
  assert.deepEqual(configMapPrinter.columns.map((c) => c.name), ['Name', 'Data', 'Age']);
  assert.deepEqual(cells(configMapPrinter, { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['cfg', 3, '90s']);
  assert.deepEqual(cells(configMapPrinter, { metadata: meta('empty') }), ['empty', 0, '90s']);
});

test('Secret: NAME TYPE DATA AGE', () => {
  assert.deepEqual(secretPrinter.columns.map((c) => c.name), ['Name', 'Type', 'Data', 'Age']);
  assert.deepEqual(cells(secretPrinter, { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } }), ['tls', 'kubernetes.io/tls', 2, '90s']);
});

test('ServiceAccount: NAME SECRETS AGE', () => {
  assert.deepEqual(serviceAccountPrinter.columns.map((c) => c.name), ['Name', 'Secrets', 'Age']);
  assert.deepEqual(cells(serviceAccountPrinter, { metadata: meta('default') }), ['default', 0, '90s']);
  assert.deepEqual(cells(serviceAccountPrinter, { metadata: meta('bot'), secrets: [{ name: 't' }] }), ['bot', 1, '90s']);
});

test('Lease: NAME HOLDER AGE', () => {
  assert.deepEqual(leasePrinter.columns.map((c) => c.name), ['Name', 'Holder', 'Age']);
  assert.deepEqual(cells(leasePrinter, { metadata: meta('kube-scheduler'), spec: { holderIdentity: 'server-1_abc' } }), ['kube-scheduler', 'server-1_abc', '90s']);
  assert.deepEqual(cells(leasePrinter, { metadata: meta('free'), spec: {} }), ['free', '', '90s']);
});
