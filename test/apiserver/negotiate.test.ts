import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiate } from '../../src/apiserver/negotiate.js';
import { isTriremeError } from '../../src/errors.js';

test('kubectl get asks for a Table first', () => {
  assert.deepEqual(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), { as: 'table', version: 'v1' });
});

test('plain JSON, wildcard and absent Accept', () => {
  assert.deepEqual(negotiate('application/json'), { as: 'json' });
  assert.deepEqual(negotiate('*/*'), { as: 'json' });
  assert.deepEqual(negotiate(undefined), { as: 'json' });
  assert.deepEqual(negotiate('application/vnd.kubernetes.protobuf, application/json'), { as: 'json' });
});

test('metadata-only lists', () => {
  assert.deepEqual(negotiate('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json'), { as: 'metadata', version: 'v1' });
});

test('nothing we can produce is a 406', () => {
  assert.throws(() => negotiate('application/vnd.kubernetes.protobuf'), (e) => isTriremeError(e, 'NotAcceptable'));
  assert.throws(() => negotiate('application/json;as=Table;v=v2;g=meta.k8s.io'), (e) => isTriremeError(e, 'NotAcceptable'));
});
