// The node fence as the heartbeat's guard, over a fake clock, a fake API and fake pods.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../../../src/client/api-client.js';
import { TriremeError } from '../../../src/errors.js';
import { FakeClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { NodeFence, type FencedPods } from '../../../src/agent/fence/fence.js';
import type { FencePlan, LocalPod } from '../../../src/agent/fence/plan.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

class FakeApi {
  pods: Pod[] = [];
  reachable = true;
  lists: string[] = [];
  list(_res: unknown, _ns: unknown, opts: { fieldSelector?: string; resourceVersion?: string }): Promise<{ items: Pod[]; resourceVersion: string }> {
    this.lists.push(`${opts.fieldSelector ?? ''}|rv=${opts.resourceVersion ?? 'none'}`);
    if (!this.reachable) return Promise.reject(new TriremeError('ServiceUnavailable', 'connect ECONNREFUSED'));
    return Promise.resolve({ items: structuredClone(this.pods), resourceVersion: '9' });
  }
}

class FakePods implements FencedPods {
  local: LocalPod[] = [];
  applied: FencePlan[] = [];
  holds: string[][] = [];
  selfFencing: string[] = [];
  snapshot(): Promise<LocalPod[]> {
    return Promise.resolve(this.local.map((l) => ({ ...l })));
  }
  applyFence(plan: FencePlan): Promise<void> {
    this.applied.push(plan);
    const stopped = new Set(plan.stop.map((s) => s.uid));
    this.local = this.local.filter((l) => !stopped.has(l.uid)).map((l) => (plan.release.includes(l.uid) ? { ...l, held: false } : l));
    return Promise.resolve();
  }
  holdSelfFencing(): string[] {
    const ids = this.local.filter((l) => this.selfFencing.includes(l.uid) && !l.held).map((l) => l.uid);
    this.local = this.local.map((l) => (ids.includes(l.uid) ? { ...l, held: true } : l));
    this.holds.push(ids);
    return ids;
  }
}

const pod = (uid: string): Pod => ({ metadata: { name: uid, namespace: 'ns', uid }, spec: { nodeName: 'n1', containers: [] } });

function setup(): { clock: FakeClock; api: FakeApi; pods: FakePods; fence: NodeFence } {
  const clock = new FakeClock();
  const api = new FakeApi();
  const pods = new FakePods();
  const fence = new NodeFence({
    client: api as unknown as ApiClient, nodeName: 'n1', pods, clock, logger: silentLogger, monotonicNow: () => clock.now(),
    config: { fenceAfterMs: 3_000, selfFenceAfterMs: 4_000, stopGraceMs: 1_000, tickMs: 250 },
  });
  return { clock, api, pods, fence };
}

/** Runs the heartbeat's loop: every `everyMs`, beforeReport then (if allowed and reachable) reported. */
async function heartbeat(s: ReturnType<typeof setup>, ms: number, everyMs = 1_000): Promise<void> {
  for (let t = 0; t < ms; t += everyMs) {
    try {
      await s.fence.beforeReport();
      if (s.api.reachable) s.fence.reported();
    } catch {
      // refused: no report this tick
    }
    for (let u = 0; u < everyMs; u += 250) {
      s.clock.advance(250);
      await flush();
    }
  }
}

describe('NodeFence', () => {
  it('with nothing running here the fence needs no read of the API', async () => {
    const s = setup();
    s.api.reachable = false;
    await s.fence.beforeReport();
    assert.deepEqual(s.api.lists, []);
    assert.equal(s.fence.suspect, false);
  });

  it('the first report waits for a consistent list of this node\'s pods and the stop of those gone', async () => {
    const s = setup();
    s.pods.local = [{ uid: 'a', source: 'api', held: false }, { uid: 'gone', source: 'runtime', held: false }];
    s.api.pods = [pod('a')];
    await s.fence.beforeReport();
    assert.deepEqual(s.api.lists, ['spec.nodeName=n1|rv=none'], 'no resourceVersion: a consistent read');
    assert.deepEqual(s.pods.applied.map((p) => p.stop.map((x) => x.uid)), [['gone']]);
    s.fence.reported();
    await s.fence.beforeReport();
    assert.equal(s.api.lists.length, 1, 'not suspect any more: no second fence');
  });

  it('while the API is unreachable every report is refused; on return the fence runs before the report', async () => {
    const s = setup();
    s.pods.local = [{ uid: 'a', source: 'api', held: false }, { uid: 'b', source: 'api', held: false }];
    s.api.pods = [pod('a'), pod('b')];
    s.fence.start();
    await heartbeat(s, 5_000);
    assert.equal(s.api.lists.length, 1);
    s.api.reachable = false;
    await heartbeat(s, 6_000);
    assert.ok(s.api.lists.length > 1, 'suspect after the silence: reports wait for a fence that fails');
    await assert.rejects(s.fence.beforeReport(), /ECONNREFUSED/);
    s.api.pods = [pod('a')]; // b was evicted meanwhile
    s.api.reachable = true;
    await s.fence.beforeReport();
    assert.deepEqual(s.pods.applied.at(-1)?.stop.map((x) => x.uid), ['b']);
    s.fence.stop();
  });

  it('a suspension (clock jump) fences even when reports never failed', async () => {
    const s = setup();
    s.pods.local = [{ uid: 'a', source: 'api', held: false }];
    s.api.pods = [pod('a')];
    s.fence.start();
    await heartbeat(s, 3_000);
    const lists = s.api.lists.length;
    s.api.pods = [];
    // SIGSTOP: time passes with no timer running, then everything fires late.
    (s.clock as unknown as { t: number }).t += 30_000;
    s.fence.reported(); // a response buffered before the stop
    await s.fence.beforeReport();
    assert.equal(s.api.lists.length, lists + 1);
    assert.deepEqual(s.pods.applied.at(-1)?.stop.map((x) => x.uid), ['a']);
    s.fence.stop();
  });

  it('self-fencing pods are held once no report got through for selfFenceAfter, and released by the fence on return', async () => {
    const s = setup();
    s.pods.local = [{ uid: 'sf', source: 'api', held: false }, { uid: 'plain', source: 'api', held: false }];
    s.pods.selfFencing = ['sf'];
    s.api.pods = [pod('sf'), pod('plain')];
    s.fence.start();
    await heartbeat(s, 3_000);
    s.api.reachable = false; // the last report got through at 2 s
    await heartbeat(s, 1_000);
    assert.deepEqual(s.pods.local.map((l) => l.held), [false, false], 'not yet');
    await heartbeat(s, 3_000);
    assert.deepEqual(s.pods.local.find((l) => l.uid === 'sf')?.held, true);
    assert.deepEqual(s.pods.local.find((l) => l.uid === 'plain')?.held, false);
    s.api.reachable = true;
    await s.fence.beforeReport();
    assert.deepEqual(s.pods.applied.at(-1)?.release, ['sf']);
    assert.equal(s.pods.local.find((l) => l.uid === 'sf')?.held, false);
    s.fence.stop();
  });
});
