// Pure decisions of the pod worker: back-off, restart policy, $(VAR) expansion and env, ports,
// phase and conditions, volume materialisation (temp dir).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { decideRestart, DEFAULT_BACKOFF, type BackoffEntry } from '../../../src/agent/pods/backoff.js';
import { shouldRestart } from '../../../src/agent/pods/restart-policy.js';
import { buildArgv, buildEnv, ConfigError, expandVars } from '../../../src/agent/pods/env.js';
import { PortAllocator, portEnv } from '../../../src/agent/pods/ports.js';
import { computePodStatus, podPhase, type ContainerView } from '../../../src/agent/pods/status.js';
import { materialiseVolumes, prepareMounts, VolumeError } from '../../../src/agent/pods/volumes.js';
import type { ContainerInfo } from '../../../src/agent/runtime/runtime.js';
import { FakeClock } from '../../../src/util/clock.js';

describe('restart back-off', () => {
  it('restarts at once, then waits 10 s, 20 s, 40 s … capped at 5 min', () => {
    const clock = new FakeClock();
    let entry: BackoffEntry | undefined;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const run = { startedAt: clock.now(), finishedAt: clock.now() + 1000 };
      clock.advance(1000);
      const d = decideRestart(entry, run, clock.now());
      if (d.action === 'wait') {
        waits.push(d.until - run.finishedAt);
        clock.advance(d.until - clock.now());
        const again = decideRestart(d.entry, run, clock.now());
        assert.equal(again.action, 'restart');
        entry = again.action === 'restart' ? again.entry : entry;
      } else {
        waits.push(0);
        entry = d.entry;
      }
    }
    assert.deepEqual(waits, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('resets after a run of 10 minutes', () => {
    const d = decideRestart({ delayMs: 160_000 }, { startedAt: 0, finishedAt: DEFAULT_BACKOFF.resetAfterMs }, DEFAULT_BACKOFF.resetAfterMs);
    assert.deepEqual(d, { action: 'restart', entry: { delayMs: 10_000 } });
  });

  it('restart policies', () => {
    assert.equal(shouldRestart('Always', 0, false), true);
    assert.equal(shouldRestart('OnFailure', 0, false), false);
    assert.equal(shouldRestart('OnFailure', 1, false), true);
    assert.equal(shouldRestart('Never', 1, false), false);
    assert.equal(shouldRestart('Always', 0, true), false);
  });
});

const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [] } };

describe('environment', () => {
  it('expands $(VAR) like Kubernetes', () => {
    assert.equal(expandVars('$(A)-$(B)-$$(A)-$(A', { A: 'x' }), 'x-$(B)-$(A)-$(A');
  });

  it('builds env from envFrom, env, valueFrom and field refs', () => {
    const env = buildEnv(pod, {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }, { secretRef: { name: 's' } }],
      env: [
        { name: 'L', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'pw' } } },
        { name: 'X', value: '$(POD_NAME)/$(CM_k)' },
      ],
    }, {
      configMaps: new Map([['cm', { data: { k: 'v' } }]]),
      secrets: new Map([['s', { data: { pw: Buffer.from('secret').toString('base64') } }]]),
    }, { podIP: '10.0.0.1', hostIP: '10.0.0.1' }, { POD_NAME: 'p' });
    assert.equal(env.CM_k, 'v');
    assert.equal(env.pw, 'secret');
    assert.equal(env.L, 'web');
    assert.equal(env.S, 'secret');
    assert.equal(env.X, 'p/v');
    assert.deepEqual(buildArgv({ name: 'c', command: ['echo', '$(X)'] }, env), ['echo', 'p/v']);
    // No command: the args are the argv (kubectl run IMG -- cmd …).
    assert.deepEqual(buildArgv({ name: 'c', args: ['sh', '-c', 'echo $(X)'] }, env), ['sh', '-c', 'echo p/v']);
  });

  it('fails clearly on a missing ConfigMap or command', () => {
    assert.throws(() => buildEnv(pod, { name: 'c', envFrom: [{ configMapRef: { name: 'nope' } }] }, { configMaps: new Map(), secrets: new Map() }, { podIP: '', hostIP: '' }, {}), ConfigError);
    assert.throws(() => buildArgv({ name: 'c' }, {}), /needs a command/);
  });
});

describe('ports', () => {
  const p: Pod = { metadata: { uid: 'u' }, spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81 }] }] } };
  it('allocates distinct bindable ports and keeps assignments', async () => {
    const taken = new Set([40001]);
    const alloc = new PortAllocator([40000, 40010], async (port) => !taken.has(port));
    const a = await alloc.allocate('u', p);
    assert.deepEqual(a, { 'a/http': 40000, 'a/81': 40002 });
    assert.deepEqual(await alloc.allocate('u', p), a);
    const b = await alloc.allocate('v', p);
    assert.deepEqual(b, { 'a/http': 40003, 'a/81': 40004 });
    assert.deepEqual(portEnv(p, 'a', a), { PORT: '40000', PORT_HTTP: '40000' });
    const host = await alloc.allocate('w', { ...p, spec: { ...p.spec!, hostNetwork: true } });
    assert.deepEqual(host, { 'a/http': 80, 'a/81': 81 });
  });
});

function inst(name: string, state: ContainerInfo['state'], exitCode?: number, attempt = 0): ContainerInfo {
  return { podUid: 'u', name, attempt, id: 'x', state, startedAt: 0, ...(state === 'exited' ? { finishedAt: 1000, exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } : {}) };
}
const view = (latest: ContainerInfo | undefined, ready = false): ContainerView => ({ name: latest?.name ?? 'c', image: 'i', ...(latest ? { latest } : {}), ready, started: ready });

describe('phase and conditions', () => {
  it('computes the phase', () => {
    assert.equal(podPhase({ policy: 'Always', init: [], containers: [view(undefined)], initFailed: false }), 'Pending');
    assert.equal(podPhase({ policy: 'Always', init: [view(inst('i', 'running'))], containers: [view(undefined)], initFailed: false }), 'Pending');
    assert.equal(podPhase({ policy: 'Always', init: [], containers: [view(inst('c', 'running'))], initFailed: false }), 'Running');
    assert.equal(podPhase({ policy: 'Always', init: [], containers: [view(inst('c', 'exited', 1))], initFailed: false }), 'Running');
    assert.equal(podPhase({ policy: 'Never', init: [], containers: [view(inst('c', 'exited', 1))], initFailed: false }), 'Failed');
    assert.equal(podPhase({ policy: 'OnFailure', init: [], containers: [view(inst('c', 'exited', 0))], initFailed: false }), 'Succeeded');
    assert.equal(podPhase({ policy: 'Never', init: [], containers: [], initFailed: true }), 'Failed');
  });

  it('keeps lastTransitionTime while a condition holds', () => {
    const clock = new FakeClock();
    const base = { pod, policy: 'Always' as const, init: [], initFailed: false, nodeIp: '1.2.3.4', startTime: clock.now(), runtimeName: 'process' };
    const s1 = computePodStatus({ ...base, containers: [view(inst('c', 'running'), true)], now: clock.now() });
    clock.advance(60_000);
    const s2 = computePodStatus({ ...base, pod: { ...pod, status: s1 }, containers: [view(inst('c', 'running'), true)], now: clock.now() });
    const ready = (s: typeof s1): { status?: string; lastTransitionTime?: string } | undefined => s.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready(s2)?.status, 'True');
    assert.equal(ready(s2)?.lastTransitionTime, ready(s1)?.lastTransitionTime);
    const s3 = computePodStatus({ ...base, pod: { ...pod, status: s2 }, containers: [{ ...view(inst('c', 'exited', 1, 2)), waiting: { reason: 'CrashLoopBackOff' } }], now: clock.now() });
    assert.equal(ready(s3)?.status, 'False');
    assert.notEqual(ready(s3)?.lastTransitionTime, ready(s1)?.lastTransitionTime);
    const cs = s3.containerStatuses?.[0];
    assert.equal(cs?.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(cs?.lastState?.terminated?.exitCode, 1);
    assert.equal(cs?.restartCount, 2);
  });
});

describe('volumes', () => {
  it('materialises configMap items with modes, emptyDir, and mount symlinks', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trireme-vol-'));
    try {
      const p: Pod = {
        metadata: { name: 'p', namespace: 'ns' },
        spec: { volumes: [{ name: 'cfg', configMap: { name: 'cm', items: [{ key: 'a', path: 'sub/a.txt', mode: 0o600 }] } }, { name: 'tmp', emptyDir: {} }], containers: [] },
      };
      const cms = new Map([['cm', { data: { a: 'A', b: 'B' } }]]);
      const vols = await materialiseVolumes(p, dir, { configMaps: cms, secrets: new Map() });
      const cfg = vols.get('cfg')!;
      assert.equal(await readFile(path.join(cfg, 'sub/a.txt'), 'utf8'), 'A');
      assert.equal((await stat(path.join(cfg, 'sub/a.txt'))).mode & 0o777, 0o600);
      await writeFile(path.join(cfg, 'stale'), 'x');
      await materialiseVolumes(p, dir, { configMaps: new Map([['cm', { data: { a: 'A2' } }]]), secrets: new Map() });
      assert.equal(await readFile(path.join(cfg, 'sub/a.txt'), 'utf8'), 'A2');
      await assert.rejects(stat(path.join(cfg, 'stale')));
      const m = await prepareMounts(dir, { name: 'c', volumeMounts: [{ name: 'tmp', mountPath: '/data' }] }, vols);
      assert.equal(await readlink(path.join(m.root, 'data')), vols.get('tmp'));
      assert.equal(m.env.TRIREME_VOLUME_TMP, vols.get('tmp'));
      await assert.rejects(materialiseVolumes(p, dir, { configMaps: new Map(), secrets: new Map() }), VolumeError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
