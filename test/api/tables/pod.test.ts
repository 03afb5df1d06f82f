import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { podPrinter, summarizePod } from '../../../src/api/tables/pod.js';
import type { KubeObject } from '../../../src/api/object.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (sec: number): string => new Date(NOW - sec * 1000).toISOString();

function pod(p: { containers?: string[]; init?: { name: string; sidecar?: boolean }[]; status?: Pod['status']; deleted?: boolean; spec?: Partial<NonNullable<Pod['spec']>> }): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', creationTimestamp: ago(600), ...(p.deleted ? { deletionTimestamp: ago(5) } : {}) },
    spec: {
      containers: (p.containers ?? ['app']).map((name) => ({ name, image: 'img' })),
      initContainers: (p.init ?? []).map((c) => ({ name: c.name, image: 'img', ...(c.sidecar ? { restartPolicy: 'Always' } : {}) })),
      ...p.spec,
    },
    status: p.status ?? {},
  };
}

const running = (name: string, extra: Partial<ContainerStatus> = {}): ContainerStatus =>
  ({ name, image: 'img', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: ago(500) } }, ...extra });
const waiting = (name: string, reason: string, extra: Partial<ContainerStatus> = {}): ContainerStatus =>
  ({ name, image: 'img', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason } }, ...extra });
const terminated = (name: string, t: { exitCode: number; reason?: string; signal?: number }, extra: Partial<ContainerStatus> = {}): ContainerStatus =>
  ({ name, image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated: t }, ...extra });

test('running pod: all containers ready', () => {
  const s = summarizePod(pod({ containers: ['a', 'b'], status: { phase: 'Running', containerStatuses: [running('a'), running('b')] } }), NOW);
  assert.deepEqual(s, { ready: '2/2', status: 'Running', restarts: '0' });
});

test('pending pod without statuses shows its phase', () => {
  assert.equal(summarizePod(pod({ status: { phase: 'Pending' } }), NOW).status, 'Pending');
  assert.equal(summarizePod(pod({ status: {} }), NOW).status, '');
});

test('waiting reason wins: ContainerCreating, CrashLoopBackOff', () => {
  assert.equal(summarizePod(pod({ status: { phase: 'Pending', containerStatuses: [waiting('app', 'ContainerCreating')] } }), NOW).status, 'ContainerCreating');
  const crash = summarizePod(pod({
    status: {
      phase: 'Running',
      containerStatuses: [waiting('app', 'CrashLoopBackOff', { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(25) } } })],
    },
  }), NOW);
  assert.deepEqual(crash, { ready: '0/1', status: 'CrashLoopBackOff', restarts: '3 (25s ago)' });
});

test('restarts sum all containers and report the latest termination', () => {
  const s = summarizePod(pod({
    containers: ['a', 'b'],
    status: {
      phase: 'Running',
      containerStatuses: [
        running('a', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(3600) } } }),
        running('b', { restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(200) } } }),
      ],
    },
  }), NOW);
  assert.equal(s.restarts, '3 (3m20s ago)');
  // A restart count without a recorded termination prints the bare number.
  assert.equal(summarizePod(pod({ status: { containerStatuses: [running('app', { restartCount: 4 })] } }), NOW).restarts, '4');
});

test('terminated containers: reason, Signal:N, ExitCode:N', () => {
  const st = (t: { exitCode: number; reason?: string; signal?: number }): string =>
    summarizePod(pod({ status: { phase: 'Running', containerStatuses: [terminated('app', t)] } }), NOW).status;
  assert.equal(st({ exitCode: 137, reason: 'OOMKilled' }), 'OOMKilled');
  assert.equal(st({ exitCode: 143, signal: 15 }), 'Signal:15');
  assert.equal(st({ exitCode: 2 }), 'ExitCode:2');
});

test('the first container decides when several have a state', () => {
  const s = summarizePod(pod({
    containers: ['a', 'b'],
    status: { phase: 'Running', containerStatuses: [waiting('a', 'ImagePullBackOff'), waiting('b', 'CrashLoopBackOff')] },
  }), NOW);
  assert.equal(s.status, 'ImagePullBackOff');
});

test('completed pods, and Completed turned back into Running / NotReady', () => {
  const done = pod({ status: { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] } });
  assert.equal(summarizePod(done, NOW).status, 'Completed');
  const row = podPrinter.row(done as KubeObject, { now: NOW });
  assert.deepEqual(row.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  const failed = podPrinter.row(pod({ status: { phase: 'Failed', reason: 'Evicted' } }) as KubeObject, { now: NOW });
  assert.equal(failed.cells[2], 'Evicted');
  assert.equal(failed.conditions?.[0]?.reason, 'Failed');

  const mixed = (ready: boolean): string => summarizePod(pod({
    containers: ['a', 'b'],
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b')],
    },
  }), NOW).status;
  assert.equal(mixed(true), 'Running');
  assert.equal(mixed(false), 'NotReady');
});

test('init containers: progress, waiting reason, failures', () => {
  const init = [{ name: 'i1' }, { name: 'i2' }];
  const st = (statuses: ContainerStatus[]): string =>
    summarizePod(pod({ init, status: { phase: 'Pending', initContainerStatuses: statuses, containerStatuses: [waiting('app', 'PodInitializing')] } }), NOW).status;
  assert.equal(st([terminated('i1', { exitCode: 0, reason: 'Completed' }), running('i2', { ready: false })]), 'Init:1/2');
  assert.equal(st([waiting('i1', 'PodInitializing'), waiting('i2', 'PodInitializing')]), 'Init:0/2');
  assert.equal(st([waiting('i1', 'CrashLoopBackOff')]), 'Init:CrashLoopBackOff');
  assert.equal(st([terminated('i1', { exitCode: 1, reason: 'Error' })]), 'Init:Error');
  assert.equal(st([terminated('i1', { exitCode: 1 })]), 'Init:ExitCode:1');
  assert.equal(st([terminated('i1', { exitCode: 137, signal: 9 })]), 'Init:Signal:9');
  // All init containers done: the main containers decide.
  assert.equal(st([terminated('i1', { exitCode: 0 }), terminated('i2', { exitCode: 0 })]), 'PodInitializing');
});

test('init container restarts count while initialising', () => {
  const s = summarizePod(pod({
    init: [{ name: 'i1' }],
    status: {
      phase: 'Pending',
      initContainerStatuses: [waiting('i1', 'CrashLoopBackOff', { restartCount: 5, lastState: { terminated: { exitCode: 1, finishedAt: ago(10) } } })],
    },
  }), NOW);
  assert.deepEqual(s, { ready: '0/1', status: 'Init:CrashLoopBackOff', restarts: '5 (10s ago)' });
});

test('sidecar init containers count in READY and RESTARTS once started', () => {
  const s = summarizePod(pod({
    init: [{ name: 'side', sidecar: true }],
    status: {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [running('side', { started: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(90) } } })],
      containerStatuses: [running('app', { restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } } })],
    },
  }), NOW);
  assert.deepEqual(s, { ready: '2/2', status: 'Running', restarts: '2 (30s ago)' });
  const notStarted = summarizePod(pod({
    init: [{ name: 'side', sidecar: true }],
    status: { phase: 'Pending', initContainerStatuses: [running('side', { started: false, ready: false })] },
  }), NOW);
  assert.equal(notStarted.status, 'Init:0/1');
});

test('scheduling gates, deletion and lost nodes', () => {
  const gated = pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } });
  assert.equal(summarizePod(gated, NOW).status, 'SchedulingGated');
  const deleting = pod({ deleted: true, status: { phase: 'Running', containerStatuses: [running('app')] } });
  assert.equal(summarizePod(deleting, NOW).status, 'Terminating');
  const deletedDone = pod({ deleted: true, status: { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] } });
  assert.equal(summarizePod(deletedDone, NOW).status, 'Completed');
  const lost = pod({ deleted: true, status: { phase: 'Running', reason: 'NodeLost', containerStatuses: [running('app')] } });
  assert.equal(summarizePod(lost, NOW).status, 'Unknown');
});

test('row cells include the wide columns', () => {
  const bare = podPrinter.row(pod({ status: { phase: 'Pending' } }) as KubeObject, { now: NOW });
  assert.deepEqual(bare.cells, ['p', '0/1', 'Pending', '0', '10m', '<none>', '<none>', '<none>', '<none>']);
  assert.equal(bare.conditions, undefined);
  const placed = pod({
    spec: { nodeName: 'n1', readinessGates: [{ conditionType: 'x/a' }, { conditionType: 'x/b' }] },
    status: {
      phase: 'Running', podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.9' }], nominatedNodeName: 'n2',
      conditions: [{ type: 'x/a', status: 'True' }, { type: 'x/b', status: 'False' }],
      containerStatuses: [running('app')],
    },
  });
  assert.deepEqual(podPrinter.row(placed as KubeObject, { now: NOW }).cells.slice(5), ['10.0.0.9', 'n1', 'n2', '1/2']);
  assert.equal(podPrinter.columns.length, 9);
});
