// The pod worker's plan: table tests over (pod, observed instances, probe results, now).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { DEFAULT_BACKOFF, type BackoffEntry } from '../../../src/agent/pods/backoff.js';
import { planPod, type PodAction, type PodObservation, type ProbeView, type Waiting } from '../../../src/agent/pods/plan.js';
import { podPhase } from '../../../src/agent/pods/status.js';
import type { ContainerInfo } from '../../../src/agent/runtime/runtime.js';

const T = 1_700_000_000_000;

const c = (name: string, extra: Partial<Container> = {}): Container => ({ name, image: 'none', command: ['run'], ...extra });

function pod(spec: Partial<PodSpec>, meta: Pod['metadata'] = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u1', ...meta }, spec: { containers: [], ...spec } };
}

type InstSpec = { attempt?: number; exitCode?: number; startedAt?: number; finishedAt?: number; state?: ContainerInfo['state'] };

const running = (name: string, o: InstSpec = {}): ContainerInfo => ({
  podUid: 'u1', name, attempt: o.attempt ?? 0, id: `${name}-${o.attempt ?? 0}`, state: o.state ?? 'running', startedAt: o.startedAt ?? T - 5000,
});
const exited = (name: string, exitCode: number, o: InstSpec = {}): ContainerInfo => ({
  podUid: 'u1', name, attempt: o.attempt ?? 0, id: `${name}-${o.attempt ?? 0}`, state: 'exited', exitCode,
  startedAt: o.startedAt ?? T - 5000, finishedAt: o.finishedAt ?? T - 1000, reason: exitCode === 0 ? 'Completed' : 'Error',
});

interface Obs {
  instances?: ContainerInfo[];
  probes?: Record<string, ProbeView>;
  backoff?: Record<string, BackoffEntry>;
  blocked?: Record<string, Waiting>;
  now?: number;
  gone?: boolean;
  volumesReady?: boolean;
}

function observe(p: Pod, o: Obs = {}): PodObservation {
  const instances = new Map<string, ContainerInfo[]>();
  for (const i of o.instances ?? []) instances.set(i.name, [...(instances.get(i.name) ?? []), i]);
  return {
    pod: p, gone: o.gone ?? false, now: o.now ?? T, volumesReady: o.volumesReady ?? true, instances,
    probes: new Map(Object.entries(o.probes ?? {})),
    backoff: new Map(Object.entries(o.backoff ?? {})), backoffConfig: DEFAULT_BACKOFF,
    blocked: new Map(Object.entries(o.blocked ?? {})),
  };
}

const plan = (p: Pod, o: Obs = {}): PodAction[] => planPod(observe(p, o)).actions;
const phaseOf = (p: Pod, o: Obs = {}): string => {
  const r = planPod(observe(p, o));
  return podPhase({ policy: r.policy, initFailed: r.initFailed, init: r.init, containers: r.containers });
};

describe('plan: init containers', () => {
  const p = pod({ initContainers: [c('i1'), c('i2')], containers: [c('a'), c('b')] });

  const table: { name: string; instances: ContainerInfo[]; want: PodAction[] }[] = [
    { name: 'nothing yet: the first init container starts, alone', instances: [], want: [{ type: 'start', container: 'i1', init: true, attempt: 0 }] },
    { name: 'the first is running: wait for it', instances: [running('i1')], want: [] },
    { name: 'the first is still being created: wait', instances: [running('i1', { state: 'created' })], want: [] },
    { name: 'the first succeeded: the second starts', instances: [exited('i1', 0)], want: [{ type: 'start', container: 'i2', init: true, attempt: 0 }] },
    { name: 'both succeeded: every app container starts', instances: [exited('i1', 0), exited('i2', 0)], want: [
      { type: 'start', container: 'a', init: false, attempt: 0 }, { type: 'start', container: 'b', init: false, attempt: 0 },
    ] },
    { name: 'the first failed (Always): restarted at once the first time', instances: [exited('i1', 1)], want: [
      { type: 'start', container: 'i1', init: true, attempt: 1, backoff: { delayMs: DEFAULT_BACKOFF.initialMs } },
    ] },
  ];
  for (const t of table) {
    it(t.name, () => assert.deepEqual(plan(p, { instances: t.instances }), t.want));
  }

  it('app containers wait as PodInitializing, init containers as ContainerCreating', () => {
    const r = planPod(observe(p));
    assert.deepEqual(r.init.map((v) => v.waiting?.reason), ['ContainerCreating', 'ContainerCreating']);
    assert.deepEqual(r.containers.map((v) => v.waiting?.reason), ['PodInitializing', 'PodInitializing']);
    assert.equal(phaseOf(p), 'Pending');
  });

  it('an init container that succeeded is ready; one that runs is started, not ready', () => {
    const r = planPod(observe(p, { instances: [exited('i1', 0), running('i2')] }));
    assert.deepEqual(r.init.map((v) => [v.ready, v.started]), [[true, false], [false, true]]);
  });

  it('a failed init container under restartPolicy Never fails the pod for good', () => {
    const never = pod({ restartPolicy: 'Never', initContainers: [c('i1'), c('i2')], containers: [c('a')] });
    const r = planPod(observe(never, { instances: [exited('i1', 2)] }));
    assert.deepEqual(r.actions, []);
    assert.equal(r.initFailed, true);
    assert.equal(r.done, true);
    assert.equal(phaseOf(never, { instances: [exited('i1', 2)] }), 'Failed');
  });

  it('a failed init container under OnFailure is retried with back-off', () => {
    const onf = pod({ restartPolicy: 'OnFailure', initContainers: [c('i1')], containers: [c('a')] });
    assert.deepEqual(plan(onf, { instances: [exited('i1', 1, { finishedAt: T - 1000 })], backoff: { i1: { delayMs: 10_000 } } }), [
      { type: 'backoff', container: 'i1', until: T + 9000, delayMs: 10_000 },
    ]);
  });

  it('nothing starts before the volumes are ready', () => {
    assert.deepEqual(plan(p, { volumesReady: false }), []);
    assert.deepEqual(plan(p, { volumesReady: false, instances: [exited('i1', 0), exited('i2', 0)] }), []);
  });
});

describe('plan: restart policy', () => {
  const table: { policy: 'Always' | 'OnFailure' | 'Never'; exitCode: number; restart: boolean; phase: string; done: boolean }[] = [
    { policy: 'Always', exitCode: 0, restart: true, phase: 'Running', done: false },
    { policy: 'Always', exitCode: 1, restart: true, phase: 'Running', done: false },
    { policy: 'OnFailure', exitCode: 0, restart: false, phase: 'Succeeded', done: true },
    { policy: 'OnFailure', exitCode: 1, restart: true, phase: 'Running', done: false },
    { policy: 'Never', exitCode: 0, restart: false, phase: 'Succeeded', done: true },
    { policy: 'Never', exitCode: 1, restart: false, phase: 'Failed', done: true },
  ];
  for (const t of table) {
    it(`${t.policy}, exit ${t.exitCode}: ${t.restart ? 'restart' : 'stays terminated'}`, () => {
      const p = pod({ restartPolicy: t.policy, containers: [c('a')] });
      const o = { instances: [exited('a', t.exitCode)] };
      const r = planPod(observe(p, o));
      assert.deepEqual(r.actions, t.restart ? [{ type: 'start', container: 'a', init: false, attempt: 1, backoff: { delayMs: 10_000 } }] : []);
      assert.equal(phaseOf(p, o), t.phase);
      assert.equal(r.done, t.done);
      if (!t.restart) assert.equal(r.containers[0]!.waiting, undefined, 'terminated, not waiting');
    });
  }

  it('the restarted instance is the next attempt after the latest', () => {
    const p = pod({ containers: [c('a')] });
    const acts = plan(p, { instances: [exited('a', 1, { attempt: 0 }), exited('a', 1, { attempt: 1, finishedAt: T - 60_000 })], backoff: { a: { delayMs: 10_000 } } });
    assert.deepEqual(acts, [{ type: 'start', container: 'a', init: false, attempt: 2, backoff: { delayMs: 20_000 } }]);
  });

  it('a pod with a running container is never done', () => {
    const p = pod({ restartPolicy: 'Never', containers: [c('a'), c('b')] });
    const r = planPod(observe(p, { instances: [exited('a', 0), running('b')] }));
    assert.equal(r.done, false);
  });
});

describe('plan: back-off and CrashLoopBackOff', () => {
  const p = pod({ containers: [c('a')] });
  const finishedAt = T;
  const inst = [exited('a', 1, { attempt: 3, startedAt: T - 2000, finishedAt })];

  const table: { name: string; backoff?: BackoffEntry; now: number; want: PodAction }[] = [
    { name: 'no back-off yet: at once', now: T, want: { type: 'start', container: 'a', init: false, attempt: 4, backoff: { delayMs: 10_000 } } },
    { name: '10 s back-off, 1 ms early: wait until the exit + 10 s', backoff: { delayMs: 10_000 }, now: T + 9_999, want: { type: 'backoff', container: 'a', until: T + 10_000, delayMs: 10_000 } },
    { name: '10 s back-off, on time: restart, next back-off 20 s', backoff: { delayMs: 10_000 }, now: T + 10_000, want: { type: 'start', container: 'a', init: false, attempt: 4, backoff: { delayMs: 20_000 } } },
    { name: 'capped at 5 min', backoff: { delayMs: 300_000 }, now: T + 300_000, want: { type: 'start', container: 'a', init: false, attempt: 4, backoff: { delayMs: 300_000 } } },
    { name: 'waits the full 5 min once capped', backoff: { delayMs: 300_000 }, now: T + 299_000, want: { type: 'backoff', container: 'a', until: T + 300_000, delayMs: 300_000 } },
  ];
  for (const t of table) {
    it(t.name, () => assert.deepEqual(plan(p, { instances: inst, now: t.now, ...(t.backoff ? { backoff: { a: t.backoff } } : {}) }), [t.want]));
  }

  it('a run of 10 minutes resets the back-off', () => {
    const long = [exited('a', 1, { startedAt: T - DEFAULT_BACKOFF.resetAfterMs, finishedAt: T })];
    assert.deepEqual(plan(p, { instances: long, now: T, backoff: { a: { delayMs: 160_000 } } }), [
      { type: 'start', container: 'a', init: false, attempt: 1, backoff: { delayMs: 10_000 } },
    ]);
  });

  it('while backing off the container waits as CrashLoopBackOff, its last run as lastState', () => {
    const r = planPod(observe(p, { instances: inst, now: T + 1000, backoff: { a: { delayMs: 20_000 } } }));
    assert.deepEqual(r.containers[0]!.waiting, { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=a pod=p_ns(u1)' });
    assert.equal(r.containers[0]!.latest?.attempt, 3);
    assert.equal(r.containers[0]!.ready, false);
    assert.equal(r.done, false);
  });

  it('CrashLoopBackOff wins over an earlier start failure', () => {
    const r = planPod(observe(p, { instances: inst, now: T + 1000, backoff: { a: { delayMs: 20_000 } }, blocked: { a: { reason: 'CreateContainerConfigError', message: 'x' } } }));
    assert.equal(r.containers[0]!.waiting?.reason, 'CrashLoopBackOff');
  });
});

describe('plan: probes', () => {
  const liveness = { exec: { command: ['ok'] }, terminationGracePeriodSeconds: 3 };
  const readiness = { exec: { command: ['ready'] } };
  const startup = { exec: { command: ['up'] }, terminationGracePeriodSeconds: 7 };
  const p = pod({ terminationGracePeriodSeconds: 20, containers: [c('a', { livenessProbe: liveness, readinessProbe: readiness, startupProbe: startup }), c('plain')] });
  const both = [running('a', { attempt: 2, startedAt: T - 100 }), running('plain')];
  const registered = (extra: Partial<ProbeView> = {}): ProbeView => ({ attempt: 2, startupDone: true, ready: true, ...extra });

  it('a running instance gets its probes registered (with its start time); one without probes does not', () => {
    assert.deepEqual(plan(p, { instances: both }), [{ type: 'probe', container: 'a', attempt: 2, startedAt: T - 100 }]);
  });

  it('probes of an older instance are registered again for the new one', () => {
    assert.deepEqual(plan(p, { instances: both, probes: { a: registered({ attempt: 1 }) } }), [{ type: 'probe', container: 'a', attempt: 2, startedAt: T - 100 }]);
  });

  it('registered and healthy: nothing to do, ready and started', () => {
    const r = planPod(observe(p, { instances: both, probes: { a: registered() } }));
    assert.deepEqual(r.actions, []);
    assert.deepEqual(r.containers.map((v) => [v.ready, v.started]), [[true, true], [true, true]]);
  });

  const killTable: { name: string; failed: 'liveness' | 'startup'; graceMs: number; spec?: Container }[] = [
    { name: 'liveness failure → kill with the probe\'s grace', failed: 'liveness', graceMs: 3000 },
    { name: 'startup failure → kill with the startup probe\'s grace', failed: 'startup', graceMs: 7000 },
    { name: 'liveness failure, no probe grace → the pod\'s', failed: 'liveness', graceMs: 20_000, spec: c('a', { livenessProbe: { exec: { command: ['ok'] } } }) },
  ];
  for (const t of killTable) {
    it(t.name, () => {
      const pp = t.spec ? pod({ terminationGracePeriodSeconds: 20, containers: [t.spec] }) : p;
      assert.deepEqual(plan(pp, { instances: both, probes: { a: registered({ failed: t.failed }) } }), [
        { type: 'kill', container: 'a', attempt: 2, graceMs: t.graceMs, message: `Container a failed ${t.failed} probe, will be restarted` },
      ]);
    });
  }

  it('after the kill the restart policy applies to the exited instance; its probes are forgotten', () => {
    const after = [exited('a', 137, { attempt: 2, finishedAt: T }), running('plain')];
    assert.deepEqual(plan(p, { instances: after, probes: { a: registered() } }), [
      { type: 'unprobe', container: 'a' },
      { type: 'start', container: 'a', init: false, attempt: 3, backoff: { delayMs: 10_000 } },
    ]);
  });

  it('startup probe pending: neither started nor ready; readiness does not count before it', () => {
    const r = planPod(observe(p, { instances: both, probes: { a: registered({ startupDone: false, ready: false }) } }));
    assert.deepEqual([r.containers[0]!.started, r.containers[0]!.ready], [false, false]);
  });

  it('startup done, readiness not yet: started, not ready', () => {
    const r = planPod(observe(p, { instances: both, probes: { a: registered({ ready: false }) } }));
    assert.deepEqual([r.containers[0]!.started, r.containers[0]!.ready], [true, false]);
  });

  it('a new instance whose probes are not registered yet is neither ready nor started', () => {
    const r = planPod(observe(p, { instances: both, probes: { a: registered({ attempt: 1 }) } }));
    assert.deepEqual([r.containers[0]!.started, r.containers[0]!.ready], [false, false]);
  });

  it('a container with only a liveness probe is ready as soon as it runs', () => {
    const lp = pod({ containers: [c('a', { livenessProbe: liveness })] });
    const r = planPod(observe(lp, { instances: [running('a')] }));
    assert.deepEqual([r.containers[0]!.started, r.containers[0]!.ready], [true, true]);
  });

  it('a failure recorded for another instance kills nothing', () => {
    // The worker only reports `failed` for the registered attempt; a stale view re-registers.
    assert.deepEqual(plan(p, { instances: both, probes: { a: registered({ attempt: 1, failed: 'liveness' }) } }), [
      { type: 'probe', container: 'a', attempt: 2, startedAt: T - 100 },
    ]);
  });
});

describe('plan: start failures and waiting reasons', () => {
  it('a start that failed before the runtime is retried and shows its reason', () => {
    const p = pod({ containers: [c('a')] });
    const r = planPod(observe(p, { blocked: { a: { reason: 'CreateContainerConfigError', message: 'needs a command' } } }));
    assert.deepEqual(r.actions, [{ type: 'start', container: 'a', init: false, attempt: 0 }]);
    assert.deepEqual(r.containers[0]!.waiting, { reason: 'CreateContainerConfigError', message: 'needs a command' });
  });

  it('a running container has no waiting reason, whatever was recorded', () => {
    const p = pod({ containers: [c('a')] });
    const r = planPod(observe(p, { instances: [running('a')], blocked: { a: { reason: 'ContainerCreating' } } }));
    assert.equal(r.containers[0]!.waiting, undefined);
  });

  it('the previous instance is kept for lastState', () => {
    const p = pod({ containers: [c('a')] });
    const r = planPod(observe(p, { instances: [exited('a', 1, { attempt: 0 }), running('a', { attempt: 1 })] }));
    assert.equal(r.containers[0]!.previous?.attempt, 0);
    assert.equal(r.containers[0]!.latest?.attempt, 1);
  });
});

describe('plan: deletion and termination', () => {
  const spec = { terminationGracePeriodSeconds: 12, initContainers: [c('i')], containers: [c('a'), c('b')] };
  const live = [exited('i', 0), exited('a', 1, { attempt: 0 }), running('a', { attempt: 1 }), running('b')];

  it('deletionTimestamp: stop every live instance within the pod grace, then delete from the API and clean up', () => {
    const p = pod(spec, { deletionTimestamp: '2026-01-01T00:00:00Z' });
    const r = planPod(observe(p, { instances: live }));
    assert.equal(r.terminating, true);
    assert.equal(r.done, false);
    assert.deepEqual(r.actions, [
      { type: 'stop', container: 'a', attempt: 1, graceMs: 12_000 },
      { type: 'stop', container: 'b', attempt: 0, graceMs: 12_000 },
      { type: 'deletePod' },
      { type: 'cleanup' },
    ]);
  });

  it('deletionGracePeriodSeconds overrides the spec', () => {
    const p = pod(spec, { deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 0 });
    assert.deepEqual(plan(p, { instances: [running('b')] }), [
      { type: 'stop', container: 'b', attempt: 0, graceMs: 0 }, { type: 'deletePod' }, { type: 'cleanup' },
    ]);
  });

  it('default grace is 30 s; a pod gone from its source is not deleted from the API again', () => {
    const p = pod({ containers: [c('a')] });
    assert.deepEqual(plan(p, { gone: true, instances: [running('a')] }), [{ type: 'stop', container: 'a', attempt: 0, graceMs: 30_000 }, { type: 'cleanup' }]);
  });

  it('a terminating pod starts and restarts nothing, even when nothing runs', () => {
    const p = pod(spec, { deletionTimestamp: '2026-01-01T00:00:00Z' });
    assert.deepEqual(plan(p, { instances: [exited('a', 1)] }), [{ type: 'deletePod' }, { type: 'cleanup' }]);
    assert.deepEqual(plan(p), [{ type: 'deletePod' }, { type: 'cleanup' }]);
  });

  it('instances of containers no longer in the spec are stopped too', () => {
    const p = pod({ containers: [c('a')] }, { deletionTimestamp: '2026-01-01T00:00:00Z' });
    assert.deepEqual(plan(p, { instances: [running('old')] }), [{ type: 'stop', container: 'old', attempt: 0, graceMs: 30_000 }, { type: 'deletePod' }, { type: 'cleanup' }]);
  });
});

describe('plan: purity', () => {
  it('the same observation gives the same plan; the observation is not changed', () => {
    const p = pod({ initContainers: [c('i')], containers: [c('a', { readinessProbe: { exec: { command: ['x'] } } })] });
    const o = observe(p, { instances: [exited('i', 0), exited('a', 1, { finishedAt: T })], backoff: { a: { delayMs: 10_000 } }, now: T + 5000 });
    const before = structuredClone({ pod: o.pod, instances: [...o.instances], backoff: [...o.backoff] });
    assert.deepEqual(planPod(o), planPod(o));
    assert.deepEqual({ pod: o.pod, instances: [...o.instances], backoff: [...o.backoff] }, before);
  });
});

describe('plan: fencing', () => {
  const p = pod({ containers: [c('a', { readinessProbe: { exec: { command: ['x'] } } }), c('b')], terminationGracePeriodSeconds: 30 });

  it('a held pod stops every live instance within the cap, forgets probes and starts nothing', () => {
    const o = observe(p, { instances: [running('a'), exited('b', 1)], probes: { a: { attempt: 0, startupDone: true, ready: true } } });
    const r = planPod({ ...o, held: true, graceCapMs: 1_000 });
    assert.deepEqual(r.actions, [{ type: 'stop', container: 'a', attempt: 0, graceMs: 1_000 }, { type: 'unprobe', container: 'a' }]);
    assert.equal(r.terminating, false);
    assert.equal(r.containers.find((v) => v.name === 'b')?.waiting, undefined, 'b stays terminated: no restart while held');
  });

  it('a held pod with nothing live plans nothing (no restart of the exited)', () => {
    const r = planPod({ ...observe(p, { instances: [exited('a', 137), exited('b', 137)] }), held: true });
    assert.deepEqual(r.actions, []);
  });

  it('a fenced (gone) pod stops within the cap, not the pod grace, and is not deleted from the API', () => {
    const r = planPod({ ...observe(p, { instances: [running('a'), running('b')], gone: true }), graceCapMs: 1_000 });
    assert.deepEqual(r.actions, [
      { type: 'stop', container: 'a', attempt: 0, graceMs: 1_000 },
      { type: 'stop', container: 'b', attempt: 0, graceMs: 1_000 },
      { type: 'cleanup' },
    ]);
  });

  it('the cap never lengthens a shorter grace period', () => {
    const short = pod({ containers: [c('a')], terminationGracePeriodSeconds: 0 });
    const r = planPod({ ...observe(short, { instances: [running('a')], gone: true }), graceCapMs: 1_000 });
    assert.deepEqual(r.actions[0], { type: 'stop', container: 'a', attempt: 0, graceMs: 0 });
  });
});
