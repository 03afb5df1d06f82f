// settleWrite: what an unconfirmed write did, from its key as read after a write barrier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settleWrite, type PendingWrite, type SeenKey } from '../../src/storage/write-settle.js';

const at = (value: string, modRevision: number, createRevision = modRevision): SeenKey => ({ value, createRevision, modRevision });

const cases: [string, PendingWrite, SeenKey | undefined, string][] = [
  ['create, key absent: not applied', { op: 'create', value: 'ours' }, undefined, 'retry'],
  ['create, our value there: applied', { op: 'create', value: 'ours' }, at('ours', 9), 'applied'],
  ['create, another value there: retry (answers AlreadyExists)', { op: 'create', value: 'ours' }, at('theirs', 9), 'retry'],
  ['update, key still at the expected revision: not applied', { op: 'update', value: 'new', expected: 5 }, at('old', 5, 2), 'retry'],
  ['update, our value there: applied', { op: 'update', value: 'new', expected: 5 }, at('new', 9, 2), 'applied'],
  ['update, another value at a later revision: unknown', { op: 'update', value: 'new', expected: 5 }, at('other', 9, 2), 'unknown'],
  ['update, key gone: unknown', { op: 'update', value: 'new', expected: 5 }, undefined, 'unknown'],
  ['unconditional update, our value: applied', { op: 'update', value: 'new' }, at('new', 9, 2), 'applied'],
  ['unconditional update, another value: unknown', { op: 'update', value: 'new' }, at('old', 5, 2), 'unknown'],
  ['delete, key still at the expected revision: not applied', { op: 'delete', expected: 5 }, at('old', 5, 2), 'retry'],
  ['delete, key at another revision: unknown', { op: 'delete', expected: 5 }, at('old', 7, 2), 'unknown'],
  ['delete, key gone: unknown (ours or another delete; the previous value is lost)', { op: 'delete', expected: 5 }, undefined, 'unknown'],
  ['unconditional delete, key there: not applied', { op: 'delete' }, at('old', 7, 2), 'retry'],
];

for (const [name, write, seen, kind] of cases) {
  test(name, () => {
    const out = settleWrite(write, seen);
    assert.equal(out.kind, kind);
    if (out.kind === 'applied') assert.deepEqual(out.seen, seen);
  });
}
