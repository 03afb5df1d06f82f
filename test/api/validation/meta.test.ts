import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  selectorMatches, validateAnnotations, validateLabelSelector, validateLabels, validateObjectMeta,
} from '../../../src/api/validation/meta.js';
import { nameIsDns1123Label, nameIsDns1123Subdomain } from '../../../src/api/validation/names.js';

const ns = { namespaced: true, nameCheck: nameIsDns1123Subdomain };

test('name required unless generateName', () => {
  assert.deepEqual(validateObjectMeta({ namespace: 'default' }, ns), [
    { reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' },
  ]);
  assert.deepEqual(validateObjectMeta({ generateName: 'web-', namespace: 'default' }, ns), []);
  const bad = validateObjectMeta({ generateName: 'Web-', namespace: 'default' }, ns);
  assert.equal(bad[0]?.field, 'metadata.generateName');
});

test('name syntax is reported with the value and Kubernetes message', () => {
  const causes = validateObjectMeta({ name: 'Foo_bar', namespace: 'default' }, ns);
  assert.equal(causes.length, 1);
  assert.equal(causes[0]?.reason, 'FieldValueInvalid');
  assert.equal(causes[0]?.field, 'metadata.name');
  assert.match(causes[0]?.message ?? '', /^Invalid value: "Foo_bar": a lowercase RFC 1123 subdomain must consist of/);
});

test('namespace required for namespaced kinds, forbidden otherwise', () => {
  assert.deepEqual(validateObjectMeta({ name: 'a' }, ns), [{ reason: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' }]);
  assert.deepEqual(validateObjectMeta({ name: 'a', namespace: 'x' }, { namespaced: false, nameCheck: nameIsDns1123Label }), [
    { reason: 'FieldValueForbidden', field: 'metadata.namespace', message: 'Forbidden: not allowed on this type' },
  ]);
  assert.equal(validateObjectMeta({ name: 'a', namespace: 'Bad' }, ns)[0]?.field, 'metadata.namespace');
});

test('labels: keys and values', () => {
  assert.deepEqual(validateLabels({ app: 'web', 'example.com/tier': '', 'a.b_c': 'x-1' }, 'metadata.labels'), []);
  const causes = validateLabels({ 'bad key': 'v', ok: 'x'.repeat(64), k: 'a b' }, 'metadata.labels');
  assert.equal(causes.length, 3);
  assert.ok(causes.every((c) => c.field === 'metadata.labels' && c.reason === 'FieldValueInvalid'));
  assert.match(causes[1]?.message ?? '', /must be no more than 63 characters/);
  assert.equal(validateLabels({ a: 1 }, 'l').length, 1);
});

test('annotations: key syntax and 256 KiB total', () => {
  assert.deepEqual(validateAnnotations({ 'Kubectl.Kubernetes.io/last-applied-configuration': '{}' }, 'metadata.annotations'), []);
  assert.equal(validateAnnotations({ 'a b': '' }, 'metadata.annotations').length, 1);
  const big = validateAnnotations({ a: 'x'.repeat(256 * 1024) }, 'metadata.annotations');
  assert.deepEqual(big, [{ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: may not be more than 262144 bytes' }]);
});

test('finalizers and ownerReferences', () => {
  assert.equal(validateObjectMeta({ name: 'a', namespace: 'n', finalizers: ['bad finalizer'] }, ns)[0]?.field, 'metadata.finalizers[0]');
  const two = { apiVersion: 'v1', kind: 'K', name: 'n', uid: 'u', controller: true };
  assert.equal(validateObjectMeta({ name: 'a', namespace: 'n', ownerReferences: [two, two] }, ns).length, 1);
  assert.equal(validateObjectMeta({ name: 'a', namespace: 'n', ownerReferences: [{}] }, ns).length, 4);
});

test('label selectors: syntax and matching', () => {
  assert.deepEqual(validateLabelSelector({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'x', operator: 'In', values: ['1'] }] }, 'spec.selector'), []);
  const causes = validateLabelSelector({ matchExpressions: [{ key: 'x', operator: 'In' }, { key: 'y', operator: 'Exists', values: ['1'] }, { key: 'z', operator: 'Near' }] }, 'spec.selector');
  assert.deepEqual(causes.map((c) => [c.field, c.reason]), [
    ['spec.selector.matchExpressions[0].values', 'FieldValueRequired'],
    ['spec.selector.matchExpressions[1].values', 'FieldValueForbidden'],
    ['spec.selector.matchExpressions[2].operator', 'FieldValueNotSupported'],
  ]);
  const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }, { key: 'env', operator: 'Exists' }] };
  assert.ok(selectorMatches(sel, { app: 'web', env: 'prod' }));
  assert.ok(!selectorMatches(sel, { app: 'web', env: 'prod', tier: 'db' }));
  assert.ok(!selectorMatches(sel, { app: 'web' }));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' }));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }));
});
