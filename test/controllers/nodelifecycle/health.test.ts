import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { FakeClock } from '../../../src/util/clock.js';
import { decideNodeHealth, lastHeartbeatMs, MESSAGE_UNKNOWN, REASON_NEVER_UPDATED, REASON_UNKNOWN } from '../../../src/controllers/nodelifecycle/health.js';
import { kubeTime } from '../../../src/api/time.js';
import type { NodeObj } from '../../../src/controllers/common/types.js';

const clock = new FakeClock(Date.parse('2024-05-01T12:00:00Z'));
const T0 = clock.now();
const iso = (ms: number) => new Date(ms).toISOString();
const lease = (renewMs: number): Lease => ({ spec: { holderIdentity: 'n', renewTime: iso(renewMs).replace(/Z$/, '000Z') } });

function node(readyHeartbeat?: number, status = 'True'): NodeObj {
  const conds = readyHeartbeat === undefined ? [] : ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
    type, status: type === 'Ready' ? status : 'False', reason: 'AgentSaysSo',
    lastHeartbeatTime: kubeTime(readyHeartbeat), lastTransitionTime: '2024-05-01T00:00:00Z',
  }));
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', creationTimestamp: '2024-05-01T11:00:00Z' },
    status: { conditions: [...conds, { type: 'NetworkUnavailable', status: 'False' }] },
  };
}

describe('lastHeartbeatMs', () => {
  it('takes the newer of lease renewTime and the Ready heartbeat, then creation time', () => {
    assert.equal(lastHeartbeatMs(node(T0 - 9000), lease(T0 - 1500)), T0 - 1500);
    assert.equal(lastHeartbeatMs(node(T0 - 1000), lease(T0 - 20_000)), T0 - 1000);
    assert.equal(lastHeartbeatMs(node(T0 - 3000), undefined), T0 - 3000);
    assert.equal(lastHeartbeatMs(node(), undefined), Date.parse('2024-05-01T11:00:00Z'));
  });
});

describe('decideNodeHealth', () => {
  it('a node with a fresh lease is healthy; re-check just after it would go stale', () => {
    const d = decideNodeHealth(node(T0 - 30_000), lease(T0 - 2000), clock.now(), 8000);
    assert.equal(d.stale, false);
    assert.equal(d.conditions, undefined);
    assert.equal(d.recheckInMs, 6001);
  });

  it('exactly at the grace period the node is still fresh; one ms later it is stale', () => {
    assert.equal(decideNodeHealth(node(T0), lease(T0 - 8000), T0, 8000).stale, false);
    assert.equal(decideNodeHealth(node(T0 - 9000), lease(T0 - 8001), T0, 8000).stale, true);
  });

  it('a silent node gets its four conditions Unknown, lastTransitionTime now, others untouched', () => {
    const c = new FakeClock(T0);
    const n = node(T0 - 10_000);
    c.advance(500);
    const d = decideNodeHealth(n, lease(T0 - 9000), c.now(), 8000);
    assert.equal(d.stale, true);
    const conds = d.conditions ?? [];
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const x = conds.find((k) => k.type === type);
      assert.equal(x?.status, 'Unknown', type);
      assert.equal(x?.reason, REASON_UNKNOWN);
      assert.equal(x?.message, MESSAGE_UNKNOWN);
      assert.equal(x?.lastTransitionTime, kubeTime(c.now()));
      assert.equal(x?.lastHeartbeatTime, kubeTime(T0 - 10_000), 'the heartbeat stays the agent\'s');
    }
    assert.deepEqual(conds.find((k) => k.type === 'NetworkUnavailable'), { type: 'NetworkUnavailable', status: 'False' });
    assert.equal(d.recheckInMs, undefined);
  });

  it('the default grace period is 8 s', () => {
    assert.equal(decideNodeHealth(node(T0 - 8000), undefined, T0).stale, false);
    assert.equal(decideNodeHealth(node(T0 - 8001), undefined, T0).stale, true);
  });

  it('conditions already Unknown are not rewritten', () => {
    const n = node(T0 - 60_000, 'True');
    const first = decideNodeHealth(n, undefined, T0, 8000);
    const again = decideNodeHealth({ ...n, status: { conditions: first.conditions } }, undefined, T0 + 5000, 8000);
    assert.equal(again.stale, true);
    assert.equal(again.conditions, undefined);
  });

  it('a node that never posted status gets the conditions added as never updated', () => {
    const d = decideNodeHealth(node(), undefined, T0, 8000);
    const ready = d.conditions?.find((k) => k.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, REASON_NEVER_UPDATED);
    assert.equal(d.conditions?.filter((k) => k.status === 'Unknown').length, 4);
  });

  it('a controller that just (re)started gives a long-silent node a full grace period', () => {
    const n = node(T0 - 60_000);
    const d = decideNodeHealth(n, lease(T0 - 60_000), T0 + 2000, 8000, T0);
    assert.equal(d.stale, false);
    assert.equal(d.recheckInMs, 6001);
    assert.equal(decideNodeHealth(n, lease(T0 - 60_000), T0 + 8001, 8000, T0).stale, true);
  });

  it('a node created moments ago without heartbeats is given the grace period', () => {
    const n: NodeObj = { metadata: { name: 'n', creationTimestamp: kubeTime(T0 - 1000) } };
    const d = decideNodeHealth(n, undefined, T0, 8000);
    assert.equal(d.stale, false);
    assert.equal(d.recheckInMs, 7001);
  });
});
