import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateName, jsonEqual, specPart } from '../../src/apiserver/object-meta.js';

test('metadata helpers', () => {
  let i = 0;
  assert.equal(generateName('web-', () => i++ % 3), 'web-bcdbc');
  assert.equal(generateName('x'.repeat(70), () => 0).length, 63);
  assert.deepEqual(specPart({ apiVersion: 'v1', kind: 'K', metadata: {}, status: {}, spec: { a: 1 }, data: {} }), { spec: { a: 1 }, data: {} });
  assert.ok(jsonEqual({ a: [1, { b: 2 }], c: undefined }, { a: [1, { b: 2 }] }));
  assert.ok(!jsonEqual({ a: [1, 2] }, { a: [2, 1] }));
});
