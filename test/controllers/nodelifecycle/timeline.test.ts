// The pure decisions of the node lifecycle controller chained over a fake clock, the way
// node-lifecycle.ts chains them: observe → health → taints (with the guard's hold) → evictions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { microTime, kubeTime } from '../../../src/api/time.js';
import { decideNodeHealth, observeHeartbeat, type HeartbeatProbe } from '../../../src/controllers/nodelifecycle/health.js';
import { decideTaints, TAINT_UNREACHABLE } from '../../../src/controllers/nodelifecycle/taints.js';
import { planEvictions } from '../../../src/controllers/nodelifecycle/eviction.js';
import type { NodeObj, PodObj } from '../../../src/controllers/common/types.js';
import { FakeClock } from '../../../src/util/clock.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const pod: PodObj = {
  metadata: { name: 'p', namespace: 'default', uid: 'p' },
  spec: { nodeName: 'n', containers: [{ name: 'c' }], tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }] },
};

class Node {
  obj: NodeObj = {
    metadata: { name: 'n' },
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: kubeTime(T0) }] },
  };
  lease: Lease = { spec: { renewTime: microTime(T0) } };
  probe: HeartbeatProbe | undefined;
  taintSeen = new Map<string, number>();

  /** One reconcile at `now`; `hold` is the guard's answer. Returns what got evicted. */
  reconcile(now: number, hold = false): { stale: boolean; evicted: boolean; unreachable: boolean } {
    this.probe = observeHeartbeat(this.probe, this.obj, this.lease, now);
    const health = decideNodeHealth(this.obj, this.probe, now);
    if (health.conditions) this.obj = { ...this.obj, status: { conditions: health.conditions } };
    const t = decideTaints(this.obj, now, { holdUnreachable: !health.stale || hold });
    if (t.taints) this.obj = { ...this.obj, spec: { taints: t.taints } };
    const noExec = (this.obj.spec?.taints ?? []).filter((x: Taint) => x.effect === 'NoExecute');
    for (const x of noExec) if (!this.taintSeen.has(x.key)) this.taintSeen.set(x.key, now);
    for (const k of this.taintSeen.keys()) if (!noExec.some((x) => x.key === k)) this.taintSeen.delete(k);
    const plan = planEvictions([pod], noExec, now, { unreachable: true, taintSince: (x) => this.taintSeen.get(x.key) ?? now });
    return { stale: health.stale, evicted: plan.evict.length > 0, unreachable: noExec.some((x) => x.key === TAINT_UNREACHABLE) };
  }

  renew(agentMs: number): void {
    this.lease = { spec: { renewTime: microTime(agentMs) } };
  }
}

describe('node lifecycle timeline (pure decisions, fake clock)', () => {
  it('healthy → Unknown → unreachable:NoExecute → evicted, with the default 5 s grace and a 1 s toleration', () => {
    const clock = new FakeClock(T0);
    const n = new Node();
    const log: string[] = [];
    let last = '';
    for (let t = 0; t <= 9000; t += 100) {
      if (t <= 2000 && t % 1000 === 0) n.renew(T0 + t); // renews at 0, 1, 2 s, then dies
      const r = n.reconcile(clock.now());
      const ready = n.obj.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      const state = r.evicted ? 'evict' : r.unreachable ? 'tainted' : ready === 'Unknown' ? 'unknown' : 'healthy';
      if (state !== last) log.push(`${t} ${state}`);
      last = state;
      clock.advance(100);
    }
    // Last renewal observed at 2.0 s: stale after 7.0 s, tainted at once, evicted 1 s later.
    assert.deepEqual(log, ['0 healthy', '7100 tainted', '8100 evict']);
  });

  it('a node that renews again loses its unreachable NoExecute taint before its agent re-posts Ready: no eviction', () => {
    const clock = new FakeClock(T0);
    const n = new Node();
    n.reconcile(clock.now());
    clock.advance(5500);
    assert.equal(n.reconcile(clock.now()).unreachable, true);
    n.renew(T0 - 3_600_000); // the agent's clock is an hour behind: still a renewal
    clock.advance(800);
    const r = n.reconcile(clock.now());
    assert.deepEqual(r, { stale: false, evicted: false, unreachable: false });
    assert.equal(n.obj.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'Unknown', 'Ready is the agent\'s to fix');
    clock.advance(3000);
    assert.equal(n.reconcile(clock.now()).evicted, false);
  });

  it('held by the guard: tainted unreachable only once the hold lifts, and the toleration counts from then', () => {
    const clock = new FakeClock(T0);
    const n = new Node();
    n.reconcile(clock.now());
    clock.advance(6000);
    assert.deepEqual(n.reconcile(clock.now(), true), { stale: true, evicted: false, unreachable: false });
    clock.advance(60_000);
    assert.deepEqual(n.reconcile(clock.now(), true), { stale: true, evicted: false, unreachable: false });
    assert.equal(n.reconcile(clock.now(), false).unreachable, true);
    clock.advance(500);
    assert.equal(n.reconcile(clock.now()).evicted, false);
    clock.advance(500);
    assert.equal(n.reconcile(clock.now()).evicted, true);
  });

  it('a restarted controller does not evict from a node it found Unknown and tainted long ago until a grace period passed', () => {
    const clock = new FakeClock(T0 + 600_000);
    const n = new Node();
    n.obj = {
      metadata: { name: 'n' },
      spec: { taints: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: kubeTime(T0) }, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }] },
      status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastHeartbeatTime: kubeTime(T0) }] },
    };
    assert.deepEqual(n.reconcile(clock.now()), { stale: false, evicted: false, unreachable: false });
    clock.advance(5000);
    assert.equal(n.reconcile(clock.now()).evicted, false);
    clock.advance(1);
    assert.deepEqual(n.reconcile(clock.now()), { stale: true, evicted: false, unreachable: true });
    clock.advance(1000);
    assert.equal(n.reconcile(clock.now()).evicted, true);
  });
});
