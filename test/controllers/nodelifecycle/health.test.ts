import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { FakeClock } from '../../../src/util/clock.js';
import {
  decideNodeHealth, DEFAULT_NODE_MONITOR_GRACE_MS, MESSAGE_UNKNOWN, observeHeartbeat, REASON_NEVER_UPDATED, REASON_UNKNOWN, type HeartbeatProbe,
} from '../../../src/controllers/nodelifecycle/health.js';
import { kubeTime, microTime } from '../../../src/api/time.js';
import type { NodeObj } from '../../../src/controllers/common/types.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const lease = (renewMs: number): Lease => ({ spec: { holderIdentity: 'n', renewTime: microTime(renewMs) } });

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

describe('observeHeartbeat', () => {
  it('the first sighting counts as a heartbeat, whatever the agent-written times say', () => {
    const p = observeHeartbeat(undefined, node(T0 - 3_600_000), lease(T0 - 3_600_000), T0);
    assert.equal(p.observedAt, T0);
    assert.equal(p.leaseRenewTime, microTime(T0 - 3_600_000));
  });

  it('a changed renewTime or Ready heartbeat is a heartbeat at the controller\'s now', () => {
    const p0 = observeHeartbeat(undefined, node(T0), lease(T0), T0);
    assert.equal(observeHeartbeat(p0, node(T0), lease(T0 + 1000), T0 + 1500).observedAt, T0 + 1500);
    assert.equal(observeHeartbeat(p0, node(T0 + 10_000), lease(T0), T0 + 1500).observedAt, T0 + 1500);
  });

  it('unchanged values keep the probe as it was (same object)', () => {
    const p0 = observeHeartbeat(undefined, node(T0), lease(T0), T0);
    assert.equal(observeHeartbeat(p0, node(T0), lease(T0), T0 + 9000), p0);
  });

  it('a renewTime going backwards (agent clock set back) is still a heartbeat', () => {
    const p0 = observeHeartbeat(undefined, node(T0), lease(T0), T0);
    assert.equal(observeHeartbeat(p0, node(T0), lease(T0 - 600_000), T0 + 1000).observedAt, T0 + 1000);
  });

  it('a Lease that disappears is no sign of life, but its values are remembered', () => {
    const p0 = observeHeartbeat(undefined, node(T0), lease(T0), T0);
    const p1 = observeHeartbeat(p0, node(T0), undefined, T0 + 3000);
    assert.equal(p1.observedAt, T0);
    assert.equal(p1.leaseRenewTime, undefined);
    assert.equal(observeHeartbeat(p1, node(T0), lease(T0), T0 + 4000).observedAt, T0 + 4000, 'recreated: a heartbeat');
  });

  it('the Ready condition this controller filled in for a node that never posted is not the agent\'s heartbeat', () => {
    const fresh: NodeObj = { metadata: { name: 'n', creationTimestamp: kubeTime(T0 - 60_000) } };
    const p0 = observeHeartbeat(undefined, fresh, undefined, T0);
    const conditions = decideNodeHealth(fresh, p0, T0 + 6000, 5000).conditions;
    assert.equal(conditions?.find((c) => c.type === 'Ready')?.reason, REASON_NEVER_UPDATED);
    assert.equal(observeHeartbeat(p0, { ...fresh, status: { conditions } }, undefined, T0 + 6100).observedAt, T0);
  });
});

describe('decideNodeHealth', () => {
  const probe = (observedAt: number): HeartbeatProbe => ({ observedAt });

  it('fresh until exactly the grace period after the observation; stale 1 ms later; re-check then', () => {
    const d = decideNodeHealth(node(T0), probe(T0 - 2000), T0, 5000);
    assert.deepEqual(d, { stale: false, recheckInMs: 3001 });
    assert.equal(decideNodeHealth(node(T0), probe(T0 - 5000), T0, 5000).stale, false);
    assert.equal(decideNodeHealth(node(T0), probe(T0 - 5001), T0, 5000).stale, true);
  });

  it('the default grace period is 5 s', () => {
    assert.equal(DEFAULT_NODE_MONITOR_GRACE_MS, 5000);
    assert.equal(decideNodeHealth(node(T0), probe(T0 - 5000), T0).stale, false);
    assert.equal(decideNodeHealth(node(T0), probe(T0 - 5001), T0).stale, true);
  });

  it('a silent node gets its four conditions Unknown, lastTransitionTime now, others untouched', () => {
    const now = T0 + 500;
    const d = decideNodeHealth(node(T0 - 10_000), probe(T0 - 9000), now, 5000);
    assert.equal(d.stale, true);
    const conds = d.conditions ?? [];
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const x = conds.find((k) => k.type === type);
      assert.equal(x?.status, 'Unknown', type);
      assert.equal(x?.reason, REASON_UNKNOWN);
      assert.equal(x?.message, MESSAGE_UNKNOWN);
      assert.equal(x?.lastTransitionTime, kubeTime(now));
      assert.equal(x?.lastHeartbeatTime, kubeTime(T0 - 10_000), 'the heartbeat stays the agent\'s');
    }
    assert.deepEqual(conds.find((k) => k.type === 'NetworkUnavailable'), { type: 'NetworkUnavailable', status: 'False' });
    assert.equal(d.recheckInMs, undefined);
  });

  it('conditions already Unknown are not rewritten', () => {
    const n = node(T0 - 60_000, 'True');
    const first = decideNodeHealth(n, probe(T0 - 60_000), T0, 5000);
    const again = decideNodeHealth({ ...n, status: { conditions: first.conditions } }, probe(T0 - 60_000), T0 + 5000, 5000);
    assert.equal(again.stale, true);
    assert.equal(again.conditions, undefined);
  });

  it('a node that never posted status gets the conditions added as never updated', () => {
    const d = decideNodeHealth(node(), probe(T0 - 6000), T0, 5000);
    const ready = d.conditions?.find((k) => k.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, REASON_NEVER_UPDATED);
    assert.equal(d.conditions?.filter((k) => k.status === 'Unknown').length, 4);
  });
});

/**
 * A node over a fake clock: its agent renews every `renewMs` writing renewTime from its own
 * clock (`skewMs` off the controller's), the controller observes each renewal `delayMs` later
 * (watch delivery), and the test asks when it first judged the node stale.
 */
function simulate(opts: { skewMs: number; renewMs?: number; delayMs?: number; silent?: Array<[from: number, to: number]>; untilMs: number; graceMs?: number }): number[] {
  const clock = new FakeClock(T0);
  const renewMs = opts.renewMs ?? 1000;
  const n = node(T0 + opts.skewMs);
  let current: Lease = lease(T0 + opts.skewMs);
  let probe = observeHeartbeat(undefined, n, current, clock.now());
  const staleAt: number[] = [];
  let wasStale = false;
  const look = () => {
    probe = observeHeartbeat(probe, n, current, clock.now());
    const stale = decideNodeHealth(n, probe, clock.now(), opts.graceMs).stale;
    if (stale && !wasStale) staleAt.push(clock.now() - T0);
    wasStale = stale;
  };
  const renew = () => {
    const t = clock.now() - T0;
    if (!(opts.silent ?? []).some(([a, b]) => t >= a && t < b)) {
      const written = lease(clock.now() + opts.skewMs);
      clock.setTimeout(() => { current = written; look(); }, opts.delayMs ?? 100);
    }
    clock.setTimeout(renew, renewMs);
  };
  clock.setTimeout(renew, renewMs);
  // The controller's own re-checks, as the work queue would run them.
  const tick = () => { look(); clock.setTimeout(tick, 50); };
  tick();
  clock.advance(opts.untilMs);
  return staleAt;
}

describe('node health over a fake clock', () => {
  it('an agent whose clock is 10 minutes ahead, or behind, stays healthy while it renews', () => {
    for (const skewMs of [600_000, -600_000, 3_600_000, -86_400_000]) {
      assert.deepEqual(simulate({ skewMs, untilMs: 60_000 }), [], `skew ${skewMs} ms`);
    }
  });

  it('a skewed agent that goes silent is judged by its silence alone: stale one grace period after its last observed renewal', () => {
    for (const skewMs of [0, 600_000, -600_000]) {
      // Renewals at 1 s … 10 s (observed 100 ms later), then none.
      assert.deepEqual(simulate({ skewMs, silent: [[10_500, Infinity]], untilMs: 30_000 }), [10_100 + 5000 + 50], `skew ${skewMs} ms`);
    }
  });

  it('a heartbeat blip of 3 s, at any phase of the renew interval, never makes the node stale with the defaults', () => {
    for (let phase = 0; phase < 1000; phase += 100) {
      assert.deepEqual(simulate({ skewMs: 0, silent: [[5000 + phase, 8000 + phase]], delayMs: 900, untilMs: 20_000 }), [], `phase ${phase}`);
    }
  });

  it('flapping (2 s on, 6 s off): stale in each silence, healthy again at each renewal', () => {
    const silent: Array<[number, number]> = [[3000, 9000], [11_000, 17_000], [19_000, 25_000]];
    const staleAt = simulate({ skewMs: 0, silent, untilMs: 26_000 });
    assert.equal(staleAt.length, 3);
    // Last renewal before each silence at 2 s / 10 s / 18 s, observed 100 ms later.
    assert.deepEqual(staleAt, [2100 + 5000 + 50, 10_100 + 5000 + 50, 18_100 + 5000 + 50].map((t) => Math.ceil(t / 50) * 50));
  });

  it('a controller (re)started after an outage gives a long-silent node a full grace period from its first sighting', () => {
    const n = node(T0 - 600_000);
    const first = observeHeartbeat(undefined, n, lease(T0 - 600_000), T0);
    assert.equal(decideNodeHealth(n, first, T0 + 5000).stale, false);
    assert.equal(decideNodeHealth(n, first, T0 + 5001).stale, true);
    // It reports within the grace period: healthy from then on.
    const renewed = observeHeartbeat(first, n, lease(T0 - 600_000 + 1), T0 + 4000);
    assert.equal(decideNodeHealth(n, renewed, T0 + 8000).stale, false);
  });
});
