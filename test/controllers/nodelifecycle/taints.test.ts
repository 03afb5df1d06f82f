import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { decideTaints, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from '../../../src/controllers/nodelifecycle/taints.js';
import type { NodeObj } from '../../../src/controllers/common/types.js';
import { FakeClock } from '../../../src/util/clock.js';

const clock = new FakeClock(Date.parse('2024-05-01T12:00:00Z'));
const NOW = '2024-05-01T12:00:00Z';
const OTHER: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

function node(ready: string | undefined, taints: Taint[] = [], unschedulable?: boolean): NodeObj {
  return {
    metadata: { name: 'n' },
    spec: { taints, ...(unschedulable === undefined ? {} : { unschedulable }) },
    status: { conditions: ready ? [{ type: 'Ready', status: ready }] : [] },
  };
}

describe('decideTaints', () => {
  it('Ready Unknown adds unreachable:NoExecute with timeAdded now, keeping other taints', () => {
    const d = decideTaints(node('Unknown', [OTHER]), clock.now());
    assert.deepEqual(d.taints, [OTHER, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW }]);
    assert.deepEqual(d.removed, []);
  });

  it('Ready False adds not-ready:NoExecute', () => {
    assert.deepEqual(decideTaints(node('False'), clock.now()).taints, [{ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: NOW }]);
  });

  it('an existing matching taint keeps its timeAdded: no change', () => {
    const t: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2024-05-01T11:59:50Z' };
    const d = decideTaints(node('Unknown', [t, OTHER]), clock.now());
    assert.equal(d.taints, undefined);
  });

  it('not-ready and unreachable replace each other', () => {
    const old: Taint = { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: '2024-05-01T11:00:00Z' };
    const d = decideTaints(node('Unknown', [old]), clock.now());
    assert.deepEqual(d.taints, [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW }]);
    assert.deepEqual(d.removed, [old]);
  });

  it('Ready True removes both lifecycle taints but not others', () => {
    const d = decideTaints(node('True', [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW }, OTHER, { key: TAINT_NOT_READY, effect: 'NoExecute' }]), clock.now());
    assert.deepEqual(d.taints, [OTHER]);
    assert.equal(d.removed.length, 2);
  });

  it('a user-set NoSchedule taint with a lifecycle key is not ours to remove', () => {
    const t: Taint = { key: TAINT_UNREACHABLE, effect: 'NoSchedule' };
    assert.equal(decideTaints(node('True', [t]), clock.now()).taints, undefined);
  });

  it('no Ready condition yet: NoExecute taints are left as they are', () => {
    const t: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW };
    assert.equal(decideTaints(node(undefined, [t]), clock.now()).taints, undefined);
    assert.equal(decideTaints(node(undefined), clock.now()).taints, undefined);
  });

  it('unschedulable:NoSchedule follows spec.unschedulable (cordon / uncordon)', () => {
    const cordoned = decideTaints(node('True', [], true), clock.now());
    assert.deepEqual(cordoned.taints, [{ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }]);
    assert.equal(decideTaints(node('True', cordoned.taints, true), clock.now()).taints, undefined);
    assert.deepEqual(decideTaints(node('True', cordoned.taints, false), clock.now()).taints, []);
  });
});
