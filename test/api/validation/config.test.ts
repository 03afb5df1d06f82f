import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../../src/api/defaults/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { validateCreate, validateUpdate } from '../../../src/api/validation/index.js';

function cm(extra: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, ...extra };
}

function secret(extra: Record<string, unknown>): KubeObject {
  return applyDefaults({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...extra });
}

function fields(obj: KubeObject): [string, string][] {
  return validateCreate(obj).map((c) => [c.field, c.reason]);
}

test('ConfigMap keys, binaryData and size', () => {
  assert.deepEqual(validateCreate(cm({ data: { 'app.properties': 'x', KEY_1: 'y' }, binaryData: { 'logo.png': 'iVBORw0=' } })), []);
  assert.deepEqual(fields(cm({ data: { 'a/b': 'x' } })), [['data[a/b]', 'FieldValueInvalid']]);
  assert.deepEqual(fields(cm({ data: { a: 'x' }, binaryData: { a: 'eA==' } })), [['data[a]', 'FieldValueInvalid']]);
  assert.deepEqual(fields(cm({ binaryData: { a: 'not base64!' } })), [['binaryData[a]', 'FieldValueInvalid']]);
  assert.deepEqual(fields(cm({ data: { big: 'x'.repeat(1024 * 1024) } })), [['', 'FieldValueTooLong']]);
});

test('Secret data must be base64, keys valid, size bounded', () => {
  assert.deepEqual(validateCreate(secret({ data: { password: 'c2VjcmV0', multi: 'c2Vj\ncmV0' } })), []);
  const bad = validateCreate(secret({ data: { password: 'secret!' } }));
  assert.deepEqual(bad.map((c) => [c.field, c.reason]), [['data[password]', 'FieldValueInvalid']]);
  assert.ok(!bad[0]?.message.includes('secret!'), 'secret values are redacted');
  assert.deepEqual(fields(secret({ data: { 'bad key': 'eA==' } })), [['data[bad key]', 'FieldValueInvalid']]);
  const huge = Buffer.alloc(1024 * 1024 + 1).toString('base64');
  assert.deepEqual(fields(secret({ data: { big: huge } })), [['data', 'FieldValueTooLong']]);
  assert.deepEqual(validateCreate(secret({ stringData: { token: 'plain text' } })), [], 'stringData is merged as base64');
});

test('Secret types require their keys', () => {
  assert.deepEqual(fields(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } })), [['data[tls.key]', 'FieldValueRequired']]);
  assert.deepEqual(fields(secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{nope').toString('base64') } })),
    [['data[.dockerconfigjson]', 'FieldValueInvalid']]);
  assert.deepEqual(validateCreate(secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') } })), []);
  assert.deepEqual(fields(secret({ type: 'kubernetes.io/service-account-token' })),
    [['metadata.annotations[kubernetes.io/service-account.name]', 'FieldValueRequired']]);
  assert.deepEqual(fields(secret({ type: 'kubernetes.io/basic-auth' })), [['data[username]', 'FieldValueRequired'], ['data[password]', 'FieldValueRequired']]);
});

test('updates: Secret type immutable; immutable objects keep their data', () => {
  const old = secret({ data: { a: 'eA==' } });
  assert.deepEqual(validateUpdate(secret({ data: { a: 'eQ==' } }), old), []);
  assert.deepEqual(validateUpdate(secret({ type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': 'eA==' } }), old).map((c) => [c.field, c.reason]),
    [['type', 'FieldValueInvalid']]);
  const frozen = secret({ data: { a: 'eA==' }, immutable: true });
  assert.deepEqual(validateUpdate(secret({ data: { a: 'eQ==' }, immutable: true }), frozen).map((c) => [c.field, c.reason]), [['data', 'FieldValueForbidden']]);
  assert.deepEqual(validateUpdate(secret({ data: { a: 'eA==' } }), frozen).map((c) => [c.field, c.reason]), [['immutable', 'FieldValueForbidden']]);
  const frozenCm = cm({ data: { a: '1' }, immutable: true });
  assert.deepEqual(validateUpdate(cm({ data: { a: '1' }, immutable: true, metadata: { name: 'c', namespace: 'default', labels: { x: 'y' } } }), frozenCm), []);
  assert.deepEqual(validateUpdate(cm({ data: { a: '2' }, immutable: true }), frozenCm).map((c) => c.field), ['data']);
  assert.deepEqual(validateUpdate(cm({ data: { a: '2' } }), cm({ data: { a: '1' }, immutable: false })), []);
});
