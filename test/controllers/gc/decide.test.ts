import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideDependent, decideOwner, type OwnerState } from '../../../src/controllers/gc/decide.js';
import type { KubeObject } from '../../../src/api/object.js';

const ref = (uid: string, block = false) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid, controller: true, blockOwnerDeletion: block });

describe('decideDependent', () => {
  const table: [string, [string, OwnerState, boolean][], ReturnType<typeof decideDependent>][] = [
    ['no owners', [], { action: 'none' }],
    ['owner present', [['a', 'present', true]], { action: 'none' }],
    ['owner gone', [['a', 'absent', true]], { action: 'delete', propagation: 'Background' }],
    ['every owner gone', [['a', 'absent', false], ['b', 'absent', false]], { action: 'delete', propagation: 'Background' }],
    ['one of two gone: drop the dangling reference', [['a', 'absent', false], ['b', 'present', false]], { action: 'removeRefs', uids: ['a'] }],
    ['owner deleting in foreground, blocking ref', [['a', 'deletingForeground', true]], { action: 'delete', propagation: 'Foreground' }],
    ['owner deleting in foreground, non-blocking ref', [['a', 'deletingForeground', false]], { action: 'delete', propagation: 'Background' }],
    ['another owner still present', [['a', 'deletingForeground', true], ['b', 'present', false]], { action: 'none' }],
    ['unknown owner kind: leave it', [['a', 'unknown', false], ['b', 'absent', false]], { action: 'none' }],
  ];
  for (const [name, refs, want] of table) {
    it(name, () => {
      assert.deepEqual(decideDependent(refs.map(([uid, state, block]) => ({ ref: ref(uid, block), state }))), want);
    });
  }
});

describe('decideOwner', () => {
  const owner = (finalizers: string[], deleting = true): KubeObject => ({
    metadata: { name: 'o', uid: 'o', finalizers, ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  });
  const dep = (name: string, block: boolean, deleting = false): KubeObject => ({
    metadata: { name, uid: name, ownerReferences: [ref('o', block)], ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  });
  it('does nothing for an owner that is not being deleted', () => {
    assert.deepEqual(decideOwner(owner(['orphan'], false), [dep('a', true)]), { action: 'none' });
  });
  it('orphan: strips the references, then the finalizer', () => {
    const d = dep('a', true);
    assert.deepEqual(decideOwner(owner(['orphan']), [d]), { action: 'orphan', dependents: [d] });
    assert.deepEqual(decideOwner(owner(['orphan']), []), { action: 'removeFinalizer', finalizer: 'orphan' });
  });
  it('foreground: deletes dependents, waits for blocking ones, then drops the finalizer', () => {
    const a = dep('a', true);
    const b = dep('b', false);
    assert.deepEqual(decideOwner(owner(['foregroundDeletion']), [a, b]), { action: 'deleteDependents', dependents: [a, b] });
    assert.deepEqual(decideOwner(owner(['foregroundDeletion']), [dep('a', true, true)]), { action: 'none' });
    assert.deepEqual(decideOwner(owner(['foregroundDeletion']), [b]), { action: 'removeFinalizer', finalizer: 'foregroundDeletion' });
    assert.deepEqual(decideOwner(owner(['foregroundDeletion']), []), { action: 'removeFinalizer', finalizer: 'foregroundDeletion' });
  });
});
