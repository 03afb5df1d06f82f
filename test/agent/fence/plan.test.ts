// What the fence stops, updates and releases (pure).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { planFence, selfFenceTargets, SELF_FENCE_ANNOTATION, type LocalPod } from '../../../src/agent/fence/plan.js';

const pod = (uid: string, extra: Pod['metadata'] = {}): Pod => ({ metadata: { name: `p-${uid}`, namespace: 'ns', uid, ...extra } });
const local = (uid: string, source: LocalPod['source'] = 'api', held = false): LocalPod => ({ uid, source, held });

describe('planFence', () => {
  it('stops pods that ran before the read and are absent from it, whatever their source but static', () => {
    const plan = planFence([local('kept'), local('deleted'), local('leftover', 'runtime'), local('static', 'static')], [pod('kept'), pod('new-elsewhere')]);
    assert.deepEqual(plan.stop, [{ uid: 'deleted', source: 'api' }, { uid: 'leftover', source: 'runtime' }]);
    assert.deepEqual(plan.update, []);
    assert.deepEqual(plan.release, []);
  });

  it('a pod replaced under the same name (another uid) is stopped', () => {
    const plan = planFence([local('old-uid')], [pod('new-uid', { name: 'p-old-uid' })]);
    assert.deepEqual(plan.stop.map((s) => s.uid), ['old-uid']);
  });

  it('a pod the read shows terminating gets the fresh object; held pods still there are released', () => {
    const terminating = pod('t', { deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 5 });
    const plan = planFence([local('t'), local('h', 'api', true), local('gone-held', 'api', true)], [terminating, pod('h')]);
    assert.deepEqual(plan.update, [terminating]);
    assert.deepEqual(plan.release, ['h']);
    assert.deepEqual(plan.stop.map((s) => s.uid), ['gone-held']);
  });

  it('pods the API shows but the snapshot did not have are left to the informer', () => {
    assert.deepEqual(planFence([], [pod('a'), pod('b')]), { stop: [], update: [], release: [] });
  });
});

describe('selfFenceTargets', () => {
  it('only annotated API pods not held yet', () => {
    const ann = { annotations: { [SELF_FENCE_ANNOTATION]: 'true' } };
    const targets = selfFenceTargets([
      { ...local('a'), pod: pod('a', ann) },
      { ...local('b'), pod: pod('b') },
      { ...local('c', 'api', true), pod: pod('c', ann) },
      { ...local('d', 'static'), pod: pod('d', ann) },
      { ...local('e'), pod: pod('e', { annotations: { [SELF_FENCE_ANNOTATION]: 'yes' } }) },
    ]);
    assert.deepEqual(targets, ['a']);
  });
});
