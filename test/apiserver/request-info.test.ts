import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from '../../src/apiserver/request-info.js';

const q = (s = '') => new URLSearchParams(s);

test('core collection and item paths', () => {
  assert.deepEqual(parseRequestInfo('GET', '/api/v1/namespaces/shop/pods', q()), { kind: 'resource', verb: 'list', group: '', version: 'v1', resource: 'pods', namespace: 'shop' });
  assert.deepEqual(parseRequestInfo('GET', '/api/v1/namespaces/shop/pods', q('watch=true')), { kind: 'resource', verb: 'watch', group: '', version: 'v1', resource: 'pods', namespace: 'shop' });
  assert.deepEqual(parseRequestInfo('DELETE', '/api/v1/namespaces/shop/pods/web', q()), { kind: 'resource', verb: 'delete', group: '', version: 'v1', resource: 'pods', namespace: 'shop', name: 'web' });
  assert.deepEqual(parseRequestInfo('POST', '/api/v1/namespaces/shop/pods/web/binding', q()), { kind: 'resource', verb: 'create', group: '', version: 'v1', resource: 'pods', namespace: 'shop', name: 'web', subresource: 'binding' });
});

test('namespaces themselves, with their status and finalize subresources', () => {
  assert.deepEqual(parseRequestInfo('GET', '/api/v1/namespaces', q()), { kind: 'resource', verb: 'list', group: '', version: 'v1', resource: 'namespaces' });
  assert.deepEqual(parseRequestInfo('GET', '/api/v1/namespaces/shop', q()), { kind: 'resource', verb: 'get', group: '', version: 'v1', resource: 'namespaces', name: 'shop' });
  assert.deepEqual(parseRequestInfo('PUT', '/api/v1/namespaces/shop/finalize', q()), { kind: 'resource', verb: 'update', group: '', version: 'v1', resource: 'namespaces', name: 'shop', subresource: 'finalize' });
  assert.deepEqual(parseRequestInfo('PATCH', '/api/v1/namespaces/shop/status', q()), { kind: 'resource', verb: 'patch', group: '', version: 'v1', resource: 'namespaces', name: 'shop', subresource: 'status' });
});

test('named groups, cluster scope, deletecollection', () => {
  assert.deepEqual(parseRequestInfo('PATCH', '/apis/apps/v1/namespaces/d/deployments/web/scale', q()), { kind: 'resource', verb: 'patch', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'd', name: 'web', subresource: 'scale' });
  assert.deepEqual(parseRequestInfo('GET', '/apis/apps/v1/deployments', q()), { kind: 'resource', verb: 'list', group: 'apps', version: 'v1', resource: 'deployments' });
  assert.deepEqual(parseRequestInfo('DELETE', '/api/v1/namespaces/d/configmaps', q()), { kind: 'resource', verb: 'deletecollection', group: '', version: 'v1', resource: 'configmaps', namespace: 'd' });
});

test('non-resource paths', () => {
  for (const p of ['/version', '/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/openapi/v3', '/healthz']) {
    assert.equal(parseRequestInfo('GET', p, q()).kind, 'nonresource', p);
  }
});

test('watch is a boolean as Kubernetes decodes it (the python client sends watch=True)', () => {
  for (const v of ['true', 'True', '1', 'yes']) assert.equal((parseRequestInfo('GET', '/api/v1/pods', q(`watch=${v}`)) as { verb: string }).verb, 'watch', v);
  for (const v of ['false', 'False', '0']) assert.equal((parseRequestInfo('GET', '/api/v1/pods', q(`watch=${v}`)) as { verb: string }).verb, 'list', v);
  assert.equal((parseRequestInfo('GET', '/api/v1/namespaces/d/pods/p', q('watch=True')) as { verb: string }).verb, 'watch');
});
