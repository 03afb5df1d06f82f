// Backend choice: round-robin, failed backends skipped, ClientIP affinity, with time as numbers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackendPicker } from '../../../src/agent/proxy/picker.js';
import type { Backend } from '../../../src/agent/proxy/table.js';

const T = 1_700_000_000_000;
const be = (ip: string, port = 80): Backend => ({ ip, port, key: `${ip}:${port}` });
const A = be('127.0.23.1');
const B = be('127.0.23.2');
const C = be('127.0.23.3');
const keys = (p: BackendPicker, n: number, client = 'c', now = T): (string | undefined)[] => Array.from({ length: n }, () => p.pick(client, now)?.key);

describe('backend picker', () => {
  it('round-robin over every backend', () => {
    assert.deepEqual(keys(new BackendPicker([A, B, C], undefined), 4), [A.key, B.key, C.key, A.key]);
  });

  it('no backends: nothing', () => {
    assert.equal(new BackendPicker([], undefined).pick('c', T), undefined);
  });

  it('a backend in `tried` is never returned; all tried → nothing', () => {
    const p = new BackendPicker([A, B], undefined);
    assert.equal(p.pick('c', T, new Set([A.key]))?.key, B.key);
    assert.equal(p.pick('c', T, new Set([A.key, B.key])), undefined);
  });

  it('a failed backend is passed over for the cool-down, then taken again', () => {
    const p = new BackendPicker([A, B, C], undefined, 1000);
    p.failed(B, 'c', T);
    assert.deepEqual(keys(p, 4, 'c', T + 500), [A.key, C.key, A.key, C.key]);
    assert.deepEqual(keys(p, 3, 'c', T + 1000), [A.key, B.key, C.key]);
  });

  it('a success clears the failure mark at once', () => {
    const p = new BackendPicker([A, B], undefined, 1000);
    p.failed(B, 'c', T);
    p.succeeded(B);
    assert.deepEqual(keys(p, 2, 'c', T + 1), [A.key, B.key]);
  });

  it('when every untried backend is cooling down, one of them is still tried', () => {
    const p = new BackendPicker([A, B], undefined, 1000);
    p.failed(A, 'c', T);
    p.failed(B, 'c', T);
    assert.equal(p.pick('c', T + 1)?.key, A.key);
    assert.equal(p.pick('c', T + 1, new Set([A.key]))?.key, B.key);
  });

  it('ClientIP affinity: a client sticks to its backend; other clients still rotate', () => {
    const p = new BackendPicker([A, B, C], { timeoutMs: 10_000 });
    const first = p.pick('10.0.0.1', T)?.key;
    assert.deepEqual(keys(p, 3, '10.0.0.1', T + 1), [first, first, first]);
    assert.notEqual(p.pick('10.0.0.2', T + 2)?.key, first);
  });

  it('affinity expires after timeoutMs without use, and each use refreshes it', () => {
    const p = new BackendPicker([A, B], { timeoutMs: 1000 });
    assert.equal(p.pick('x', T)?.key, A.key);
    assert.equal(p.pick('x', T + 900)?.key, A.key);
    assert.equal(p.pick('x', T + 1800)?.key, A.key, 'refreshed at T+900');
    assert.equal(p.pick('x', T + 2800)?.key, B.key, 'expired: round-robin moves on');
  });

  it('affinity is dropped when its backend fails or leaves the list', () => {
    const p = new BackendPicker([A, B], { timeoutMs: 10_000 });
    assert.equal(p.pick('x', T)?.key, A.key);
    p.failed(A, 'x', T);
    assert.equal(p.pick('x', T + 1)?.key, B.key);
    assert.equal(p.pick('x', T + 2)?.key, B.key, 'sticks to the new one');
    p.update([A, C], { timeoutMs: 10_000 });
    assert.notEqual(p.pick('x', T + 3)?.key, B.key);
  });

  it('update keeps affinity to backends still listed; removing affinity forgets every entry', () => {
    const p = new BackendPicker([A, B], { timeoutMs: 10_000 });
    p.pick('x', T);
    const second = p.pick('y', T)?.key;
    p.update([A, B, C], { timeoutMs: 10_000 });
    assert.equal(p.pick('y', T + 1)?.key, second);
    p.update([A, B, C], undefined);
    assert.deepEqual(keys(p, 3, 'y', T + 2).sort(), [A.key, B.key, C.key]);
  });

  it('sweep drops expired affinity entries (the map does not grow with every client ever seen)', () => {
    const p = new BackendPicker([A, B], { timeoutMs: 1000 });
    for (let i = 0; i < 50; i++) p.pick(`10.0.0.${i}`, T);
    p.sweep(T + 999);
    assert.equal(p.pick('10.0.0.0', T + 999)?.key, A.key, 'still sticky before expiry');
    p.sweep(T + 5000);
    const internal = (p as unknown as { sticky: Map<string, unknown> }).sticky;
    assert.equal(internal.size, 0);
  });
});
