import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, groupVersion } from '../../../src/api/resources.js';
import { buildTable, hasPrinter, tableColumns } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', uid: 'u1', resourceVersion: '7', creationTimestamp: '2024-05-01T11:59:00Z' }, data: { a: '1' } };

test('every served kind has its own printer, and each row has one cell per column', () => {
  for (const r of RESOURCES) {
    const gv = groupVersion(r);
    assert.ok(hasPrinter(r.kind, gv), `${gv} ${r.kind}`);
    const t = buildTable(r.kind, gv, [{ apiVersion: gv, kind: r.kind, metadata: { name: 'x' } }], { now: NOW, includeObject: 'None' });
    assert.equal(t.rows[0]?.cells.length, t.columnDefinitions.length, `${gv} ${r.kind}`);
    const nameCols = t.columnDefinitions.filter((c) => c.format === 'name');
    assert.equal(nameCols.length, 1, `${gv} ${r.kind} has one name column`);
    for (const c of t.columnDefinitions) assert.deepEqual(Object.keys(c).sort(), ['description', 'format', 'name', 'priority', 'type']);
  }
});

test('table envelope and list metadata', () => {
  const t = buildTable('ConfigMap', 'v1', [cm], { now: NOW, includeObject: 'None', resourceVersion: '42', continueToken: 'abc', remainingItemCount: 3 });
  assert.equal(t.apiVersion, 'meta.k8s.io/v1');
  assert.equal(t.kind, 'Table');
  assert.deepEqual(t.metadata, { resourceVersion: '42', continue: 'abc', remainingItemCount: 3 });
  assert.deepEqual(t.rows, [{ cells: ['c', 1, '60s'] }]);
  assert.deepEqual(buildTable('ConfigMap', 'v1', [], { now: NOW, includeObject: 'None' }).metadata, {});
  assert.deepEqual(buildTable('ConfigMap', 'v1', [], { now: NOW, includeObject: 'None' }).rows, []);
});

test('includeObject: Metadata gives PartialObjectMetadata, Object the object', () => {
  const meta = buildTable('ConfigMap', 'v1', [cm], { now: NOW, includeObject: 'Metadata' });
  assert.deepEqual(meta.rows[0]?.object, { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: cm.metadata });
  const full = buildTable('ConfigMap', 'v1', [cm], { now: NOW, includeObject: 'Object' });
  assert.deepEqual(full.rows[0]?.object, cm);
  const bare = buildTable('ConfigMap', 'v1', [{ metadata: { name: 'n' } }], { now: NOW, includeObject: 'Object' });
  assert.deepEqual(bare.rows[0]?.object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n' } });
});

test('unknown kinds get the default Name / Created At table', () => {
  assert.equal(hasPrinter('Widget', 'example.com/v1'), false);
  assert.deepEqual(tableColumns('Widget', 'example.com/v1').map((c) => [c.name, c.type, c.format]), [['Name', 'string', 'name'], ['Created At', 'date', '']]);
  const t = buildTable('Widget', 'example.com/v1', [{ metadata: { name: 'w', creationTimestamp: '2024-05-01T10:00:00Z' } }, { metadata: { name: 'v' } }], { now: NOW, includeObject: 'None' });
  assert.deepEqual(t.rows.map((r) => r.cells), [['w', '2024-05-01T10:00:00Z'], ['v', '0001-01-01T00:00:00Z']]);
});

test('the two Event APIs keep their own field mappings', () => {
  const core = buildTable('Event', 'v1', [{ metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p' }, message: 'core' }], { now: NOW, includeObject: 'None' });
  const v1 = buildTable('Event', 'events.k8s.io/v1', [{ metadata: { name: 'e' }, regarding: { kind: 'Pod', name: 'p' }, note: 'new' }], { now: NOW, includeObject: 'None' });
  assert.equal(core.rows[0]?.cells[6], 'core');
  assert.equal(v1.rows[0]?.cells[6], 'new');
  assert.deepEqual(core.columnDefinitions, v1.columnDefinitions);
});

test('pod rows carry completion conditions', () => {
  const t = buildTable('Pod', 'v1', [{ metadata: { name: 'job-x' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Succeeded' } }], { now: NOW, includeObject: 'None' });
  assert.equal(t.rows[0]?.conditions?.[0]?.type, 'Completed');
  assert.equal(t.columnDefinitions.filter((c) => c.priority === 1).length, 4);
});
