import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { evictionDeadline, planEvictions, taintStart, toleratesTaint } from '../../../src/controllers/nodelifecycle/eviction.js';
import type { PodObj } from '../../../src/controllers/common/types.js';
import { FakeClock } from '../../../src/util/clock.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const UNREACHABLE: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-05-01T12:00:00Z' };
const NOT_READY: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: '2024-05-01T12:00:00Z' };
// A sighting long after timeAdded (e.g. after a controller restart): timeAdded counts.
const never = () => T0 + 3_600_000;

function pod(name: string, tolerations: Toleration[] = [], deletionTimestamp?: string): PodObj {
  return {
    metadata: { name, namespace: 'default', uid: name, ...(deletionTimestamp ? { deletionTimestamp } : {}) },
    spec: { nodeName: 'n', containers: [{ name: 'c' }], tolerations },
  };
}
const tol = (key: string | undefined, seconds?: number, operator = 'Exists'): Toleration =>
  ({ ...(key ? { key } : {}), operator, effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) });

describe('toleratesTaint', () => {
  it('matches as Kubernetes: effect, key, Exists, Equal with value', () => {
    assert.equal(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, UNREACHABLE), true);
    assert.equal(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, UNREACHABLE), false);
    assert.equal(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }, UNREACHABLE), true, 'empty effect matches all');
    assert.equal(toleratesTaint({ operator: 'Exists' }, UNREACHABLE), true, 'empty key with Exists matches all');
    assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, UNREACHABLE), false);
    assert.equal(toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoExecute' }), true, 'Equal is the default');
    assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'w' }, { key: 'k', value: 'v', effect: 'NoExecute' }), false);
    assert.equal(toleratesTaint({ operator: 'Equal' }, UNREACHABLE), false);
  });
});

describe('taintStart', () => {
  it('timeAdded, refined by a sighting within the same second, else the sighting if no timeAdded', () => {
    assert.equal(taintStart(UNREACHABLE, T0 + 3_600_000), T0);
    assert.equal(taintStart(UNREACHABLE, T0 + 730), T0 + 730);
    assert.equal(taintStart(UNREACHABLE, T0 - 10), T0);
    assert.equal(taintStart({ key: 'k', effect: 'NoExecute' }, T0 + 5), T0 + 5);
  });
});

describe('evictionDeadline', () => {
  it('not tolerated: now; tolerated with seconds: timeAdded + seconds; forever: never', () => {
    assert.equal(evictionDeadline(pod('a'), [UNREACHABLE], never), -Infinity);
    assert.equal(evictionDeadline(pod('b', [tol('node.kubernetes.io/unreachable', 10)]), [UNREACHABLE], never), T0 + 10_000);
    assert.equal(evictionDeadline(pod('c', [tol('node.kubernetes.io/unreachable')]), [UNREACHABLE], never), Infinity);
    assert.equal(evictionDeadline(pod('d'), [{ key: 'x', effect: 'NoSchedule' }], never), Infinity, 'only NoExecute evicts');
  });

  it('must tolerate every NoExecute taint; the smallest seconds of the tolerations used win', () => {
    assert.equal(evictionDeadline(pod('a', [tol('node.kubernetes.io/unreachable', 10)]), [UNREACHABLE, NOT_READY], never), -Infinity);
    const p = pod('b', [tol('node.kubernetes.io/unreachable', 30), tol('node.kubernetes.io/not-ready'), tol('unused', 1)]);
    assert.equal(evictionDeadline(p, [UNREACHABLE, NOT_READY], never), T0 + 30_000);
  });

  it('negative seconds mean now; a taint without timeAdded counts from its first sighting', () => {
    assert.equal(evictionDeadline(pod('a', [tol(undefined, -5)]), [UNREACHABLE], never), T0);
    const bare: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
    assert.equal(evictionDeadline(pod('b', [tol(undefined, 2)]), [bare], () => T0 + 500), T0 + 2500);
  });
});

describe('planEvictions', () => {
  const clock = new FakeClock(T0);
  const pods = [
    pod('untolerated'),
    pod('two-seconds', [tol('node.kubernetes.io/unreachable', 2)]),
    pod('ten-seconds', [tol('node.kubernetes.io/unreachable', 10)]),
    pod('forever', [tol(undefined)]),
  ];
  const plan = () => planEvictions(pods, [UNREACHABLE], clock.now(), { unreachable: true, taintSince: never });

  it('evicts the untolerating pod at once and re-checks at the next deadline', () => {
    const p = plan();
    assert.deepEqual(p.evict.map((e) => [e.pod.metadata?.name, e.reason]), [['untolerated', 'NotTolerated']]);
    assert.equal(p.recheckInMs, 2000);
  });

  it('evicts each tolerating pod when its time is up; the forever pod stays', () => {
    clock.advance(1999);
    assert.equal(plan().evict.length, 1);
    clock.advance(1);
    const p = plan();
    assert.deepEqual(p.evict.map((e) => [e.pod.metadata?.name, e.reason]).slice(1), [['two-seconds', 'TolerationExpired']]);
    assert.equal(p.recheckInMs, 8000);
    clock.advance(8000);
    const last = plan();
    assert.deepEqual(last.evict.map((e) => e.pod.metadata?.name), ['untolerated', 'two-seconds', 'ten-seconds']);
    assert.equal(last.recheckInMs, undefined);
  });

  it('terminating pods: force-removed on an unreachable node once their grace is over, else left', () => {
    const due = pod('due', [], '2024-05-01T11:59:59Z');
    const later = pod('later', [], '2024-05-01T12:00:05Z');
    const p = planEvictions([due, later], [UNREACHABLE], T0, { unreachable: true, taintSince: never });
    assert.deepEqual(p.evict, []);
    assert.deepEqual(p.forceRemove.map((x) => x.metadata?.name), ['due']);
    assert.equal(p.recheckInMs, 5000);
    const notReady = planEvictions([due, later], [NOT_READY], T0, { unreachable: false, taintSince: never });
    assert.deepEqual([notReady.evict, notReady.forceRemove, notReady.recheckInMs], [[], [], undefined]);
  });
});
