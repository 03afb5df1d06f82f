import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeCondition, Taint } from 'kubernetes-types/core/v1.js';
import {
  decideTaints, TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY, TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE,
} from '../../../src/controllers/nodelifecycle/taints.js';
import type { NodeObj } from '../../../src/controllers/common/types.js';
import { FakeClock } from '../../../src/util/clock.js';

const clock = new FakeClock(Date.parse('2024-05-01T12:00:00Z'));
const NOW = '2024-05-01T12:00:00Z';
const OTHER: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
const noSchedule = (key: string): Taint => ({ key, effect: 'NoSchedule' });

function node(ready: string | undefined, taints: Taint[] = [], unschedulable?: boolean, more: NodeCondition[] = []): NodeObj {
  return {
    metadata: { name: 'n' },
    spec: { taints, ...(unschedulable === undefined ? {} : { unschedulable }) },
    status: { conditions: [...(ready ? [{ type: 'Ready', status: ready }] : []), ...more] },
  };
}

describe('decideTaints', () => {
  it('Ready Unknown adds unreachable:NoExecute with timeAdded now and unreachable:NoSchedule, keeping other taints', () => {
    const d = decideTaints(node('Unknown', [OTHER]), clock.now());
    assert.deepEqual(d.taints, [OTHER, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW }, noSchedule(TAINT_UNREACHABLE)]);
    assert.deepEqual(d.removed, []);
  });

  it('Ready False adds not-ready:NoExecute and not-ready:NoSchedule', () => {
    assert.deepEqual(decideTaints(node('False'), clock.now()).taints, [{ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: NOW }, noSchedule(TAINT_NOT_READY)]);
  });

  it('existing matching taints keep their timeAdded: no change', () => {
    const t: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2024-05-01T11:59:50Z' };
    const d = decideTaints(node('Unknown', [t, OTHER, noSchedule(TAINT_UNREACHABLE)]), clock.now());
    assert.equal(d.taints, undefined);
  });

  it('not-ready and unreachable replace each other', () => {
    const old: Taint = { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: '2024-05-01T11:00:00Z' };
    const d = decideTaints(node('Unknown', [old, noSchedule(TAINT_NOT_READY)]), clock.now());
    assert.deepEqual(d.taints, [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW }, noSchedule(TAINT_UNREACHABLE)]);
    assert.deepEqual(d.removed, [old, noSchedule(TAINT_NOT_READY)]);
  });

  it('Ready True removes the lifecycle taints of both effects but not others', () => {
    const d = decideTaints(node('True', [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW }, OTHER, { key: TAINT_NOT_READY, effect: 'NoExecute' }, noSchedule(TAINT_UNREACHABLE)]), clock.now());
    assert.deepEqual(d.taints, [OTHER]);
    assert.equal(d.removed.length, 3);
  });

  it('a taint with a lifecycle key but another effect is not ours', () => {
    const t: Taint = { key: TAINT_DISK_PRESSURE, effect: 'PreferNoSchedule' };
    assert.equal(decideTaints(node('True', [t]), clock.now()).taints, undefined);
  });

  it('no Ready condition yet: NoExecute taints are left as they are', () => {
    const t: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: NOW };
    assert.equal(decideTaints(node(undefined, [t]), clock.now()).taints, undefined);
    assert.equal(decideTaints(node(undefined), clock.now()).taints, undefined);
  });

  it('unschedulable:NoSchedule follows spec.unschedulable (cordon / uncordon)', () => {
    const cordoned = decideTaints(node('True', [], true), clock.now());
    assert.deepEqual(cordoned.taints, [noSchedule(TAINT_UNSCHEDULABLE)]);
    assert.equal(decideTaints(node('True', cordoned.taints, true), clock.now()).taints, undefined);
    assert.deepEqual(decideTaints(node('True', cordoned.taints, false), clock.now()).taints, []);
  });

  // TaintNodesByCondition: each condition/status pair and the NoSchedule taint it asks for.
  const table: Array<[condition: string, status: string, taints: string[]]> = [
    ['MemoryPressure', 'True', [TAINT_MEMORY_PRESSURE]],
    ['MemoryPressure', 'False', []],
    ['MemoryPressure', 'Unknown', []],
    ['DiskPressure', 'True', [TAINT_DISK_PRESSURE]],
    ['DiskPressure', 'False', []],
    ['PIDPressure', 'True', [TAINT_PID_PRESSURE]],
    ['PIDPressure', 'Unknown', []],
    ['NetworkUnavailable', 'True', [TAINT_NETWORK_UNAVAILABLE]],
    ['NetworkUnavailable', 'False', []],
  ];
  for (const [type, status, keys] of table) {
    it(`${type}=${status} on a Ready node → ${keys.length ? keys.join(', ') : 'no taint'}`, () => {
      const d = decideTaints(node('True', [], undefined, [{ type, status }]), clock.now());
      assert.deepEqual(d.taints ?? [], keys.map(noSchedule));
    });
  }

  it('several pressures at once, then all clear: taints come and go together, others stay', () => {
    const conditions = (s: string): NodeCondition[] => ['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({ type, status: s }));
    const under = decideTaints(node('True', [OTHER], undefined, conditions('True')), clock.now());
    assert.deepEqual(under.taints, [OTHER, noSchedule(TAINT_MEMORY_PRESSURE), noSchedule(TAINT_DISK_PRESSURE), noSchedule(TAINT_PID_PRESSURE)]);
    assert.equal(decideTaints(node('True', under.taints, undefined, conditions('True')), clock.now()).taints, undefined);
    const clear = decideTaints(node('True', under.taints, undefined, conditions('False')), clock.now());
    assert.deepEqual(clear.taints, [OTHER]);
    assert.equal(clear.removed.length, 3);
  });
});

describe('decideTaints with holdUnreachable', () => {
  it('Ready Unknown but held: no unreachable:NoExecute (an existing one goes), the NoSchedule one stays', () => {
    const held = decideTaints(node('Unknown', [OTHER]), clock.now(), { holdUnreachable: true });
    assert.deepEqual(held.taints, [OTHER, noSchedule(TAINT_UNREACHABLE)]);
    const had: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2024-05-01T11:00:00Z' };
    const removed = decideTaints(node('Unknown', [had, noSchedule(TAINT_UNREACHABLE)]), clock.now(), { holdUnreachable: true });
    assert.deepEqual(removed.taints, [noSchedule(TAINT_UNREACHABLE)]);
    assert.deepEqual(removed.removed, [had]);
  });

  it('the hold does not touch not-ready:NoExecute (the agent itself reports Ready False)', () => {
    const d = decideTaints(node('False'), clock.now(), { holdUnreachable: true });
    assert.deepEqual(d.taints, [{ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: NOW }, noSchedule(TAINT_NOT_READY)]);
  });
});
