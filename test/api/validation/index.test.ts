import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invalidError, nameCheckFor } from '../../../src/api/validation/index.js';
import { isTriremeError } from '../../../src/errors.js';
import { invalid, required } from '../../../src/api/validation/field.js';

test('invalidError: single cause has no brackets', () => {
  const err = invalidError('Pod', 'web', [required('spec.containers')]);
  assert.ok(isTriremeError(err, 'Invalid'));
  assert.equal(err.message, 'Pod "web" is invalid: spec.containers: Required value');
  assert.deepEqual(err.causes, [{ reason: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' }]);
  assert.deepEqual(err.context, { kind: 'Pod', group: '', name: 'web' });
});

test('invalidError: several causes are bracketed, group-qualified, deduplicated', () => {
  const causes = [required('spec.selector'), invalid('spec.replicas', -1, 'must be greater than or equal to 0'), required('spec.selector')];
  const err = invalidError('Deployment', 'web', causes, 'apps');
  assert.equal(err.message, 'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]');
  assert.equal(err.causes.length, 3);
});

test('invalidError: no causes', () => {
  assert.equal(invalidError('Secret', 's', []).message, 'Secret "s" is invalid');
});

test('name syntax per kind', () => {
  assert.deepEqual(nameCheckFor('Namespace')('a.b', false).length, 1);
  assert.deepEqual(nameCheckFor('Service')('1a', false).length, 1);
  assert.deepEqual(nameCheckFor('ConfigMap')('a.b', false), []);
  assert.deepEqual(nameCheckFor('Lease')('kube-scheduler', false), []);
});
