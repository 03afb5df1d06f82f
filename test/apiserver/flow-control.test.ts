// Overload protection's bookkeeping (pure): priority levels by identity, long-running requests,
// per-level seats refused with 429 and retryAfterSeconds once full and given back exactly once,
// the per-user cap on long-running requests, and the admin never refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlowControl, isLongRunning, priorityOf } from '../../src/apiserver/flow-control.js';
import { parseRequestInfo } from '../../src/apiserver/request-info.js';

const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const node = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const scheduler = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
const alice = { name: 'alice', groups: ['dev', 'system:authenticated'] };
const sa = { name: 'system:serviceaccount:shop:default', groups: ['system:serviceaccounts', 'system:authenticated'] };
const q = (s = ''): URLSearchParams => new URLSearchParams(s);
const ri = (method: string, path: string, query = '') => parseRequestInfo(method, path, q(query));

describe('priorityOf', () => {
  const cases: [string, Parameters<typeof priorityOf>[0], string][] = [
    ['the admin', admin, 'exempt'], ['a node', node, 'system'], ['a component', scheduler, 'system'],
    ['a user', alice, 'workload'], ['a service account', sa, 'workload'], ['anonymous', undefined, 'workload'],
    ['system:anonymous', { name: 'system:anonymous', groups: ['system:unauthenticated'] }, 'workload'],
  ];
  for (const [what, user, level] of cases) it(`${what}: ${level}`, () => assert.equal(priorityOf(user), level));
});

describe('isLongRunning', () => {
  const cases: [string, string, string, boolean][] = [
    ['GET', '/api/v1/pods', 'watch=true', true],
    ['GET', '/api/v1/pods', '', false],
    ['GET', '/api/v1/namespaces/d/pods/p/log', 'follow=true', true],
    ['GET', '/api/v1/namespaces/d/pods/p/log', '', false],
    ['POST', '/api/v1/namespaces/d/pods/p/exec', 'command=ls', true],
    ['GET', '/healthz', '', false],
  ];
  for (const [m, path, query, want] of cases) it(`${m} ${path}?${query}: ${want}`, () => assert.equal(isLongRunning(ri(m, path, query), q(query)), want));
});

describe('FlowControl', () => {
  it('each level has its own seats; beyond them 429 with retryAfterSeconds; release gives one back, once', () => {
    const fc = new FlowControl({ readOnly: 2, mutating: 1, watchesPerUser: 5 });
    const get = ri('GET', '/api/v1/pods');
    const a = fc.admit(alice, 'GET', get, q());
    const b = fc.admit(alice, 'GET', get, q());
    const c = fc.admit(alice, 'GET', get, q());
    assert.ok(a.ok && b.ok);
    assert.ok(!c.ok);
    assert.equal(c.reason, 'inflight');
    assert.equal(c.error.code, 'TooManyRequests');
    assert.equal(c.error.context.retryAfterSeconds, 1);
    // The workload level is full; nodes and components still get in, the admin always.
    assert.ok(fc.admit(node, 'GET', get, q()).ok);
    assert.ok(fc.admit(scheduler, 'GET', get, q()).ok);
    for (let i = 0; i < 50; i++) assert.ok(fc.admit(admin, 'GET', get, q()).ok);
    // Mutating seats are apart from read-only ones.
    const post = ri('POST', '/api/v1/namespaces/d/configmaps');
    const m1 = fc.admit(alice, 'POST', post, q());
    assert.ok(m1.ok);
    assert.ok(!fc.admit(alice, 'POST', post, q()).ok);
    a.release();
    a.release();
    assert.deepEqual(fc.inflight(), { 'workload/readOnly': 1, 'workload/mutating': 1, 'system/readOnly': 2 });
    assert.ok(fc.admit(alice, 'GET', get, q()).ok, 'a seat given back is taken again');
    assert.ok(!fc.admit(alice, 'GET', get, q()).ok, 'and only one');
  });

  it('long-running requests take no seat, at most watchesPerUser per user', () => {
    const fc = new FlowControl({ readOnly: 1, mutating: 1, watchesPerUser: 2 });
    const watch = ri('GET', '/api/v1/pods', 'watch=true');
    const w1 = fc.admit(alice, 'GET', watch, q('watch=true'));
    const w2 = fc.admit(alice, 'GET', watch, q('watch=true'));
    const w3 = fc.admit(alice, 'GET', watch, q('watch=true'));
    assert.ok(w1.ok && w2.ok);
    assert.ok(!w3.ok);
    assert.equal(w3.reason, 'watches');
    assert.match(w3.error.message, /user "alice": at most 2/);
    assert.ok(fc.admit({ ...alice, name: 'bob' }, 'GET', watch, q('watch=true')).ok, 'per user');
    assert.ok(fc.admit(alice, 'GET', ri('GET', '/api/v1/pods'), q()).ok, 'watches take no seat');
    for (let i = 0; i < 10; i++) assert.ok(fc.admit(admin, 'GET', watch, q('watch=true')).ok, 'the admin has no cap');
    w1.release();
    assert.equal(fc.openLongRunning('alice'), 1);
    assert.ok(fc.admit(alice, 'GET', watch, q('watch=true')).ok);
  });
});
