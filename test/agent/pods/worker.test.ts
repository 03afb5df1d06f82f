// The pod worker executing its plan: an in-memory runtime (the decisions under test are the
// worker's wiring of the plan, not process handling, which the agent integration test covers),
// a fake clock for back-off and probe timing, a real temp dir and real exec probes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { PortAllocator } from '../../../src/agent/pods/ports.js';
import type { PodSink } from '../../../src/agent/pods/sink.js';
import { PodWorker, type WorkerDeps } from '../../../src/agent/pods/worker.js';
import { ProbeManager } from '../../../src/agent/probes/manager.js';
import type { ContainerConfig, ContainerInfo, ContainerRef, Runtime } from '../../../src/agent/runtime/runtime.js';
import { FakeClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { pollUntil } from '../../../src/util/poll.js';

const key = (r: ContainerRef): string => `${r.podUid}/${r.name}/${r.attempt}`;

/** Instances in memory; they run until the test ends them with `exit`. */
class MemoryRuntime implements Runtime {
  readonly name = 'memory';
  readonly version = '0';
  readonly instances = new Map<string, { info: ContainerInfo; cfg: ContainerConfig }>();
  readonly stops: { ref: ContainerRef; graceMs: number }[] = [];
  private readonly listeners: ((i: ContainerInfo) => void)[] = [];
  private seq = 0;

  constructor(private readonly clock: FakeClock) {}

  start(cfg: ContainerConfig): Promise<ContainerInfo> {
    const k = key(cfg);
    const had = this.instances.get(k);
    if (had) return Promise.resolve({ ...had.info });
    const info: ContainerInfo = { podUid: cfg.podUid, name: cfg.name, attempt: cfg.attempt, id: `id${++this.seq}`, state: 'running', pid: 1000 + this.seq, startedAt: this.clock.now() };
    this.instances.set(k, { info, cfg });
    return Promise.resolve({ ...info });
  }
  inspect(ref: ContainerRef): Promise<ContainerInfo | undefined> {
    const i = this.instances.get(key(ref))?.info;
    return Promise.resolve(i ? { ...i } : undefined);
  }
  config(ref: ContainerRef): Promise<Pick<ContainerConfig, 'argv' | 'env' | 'cwd' | 'logDir'> | undefined> {
    return Promise.resolve(this.instances.get(key(ref))?.cfg);
  }
  listPod(podUid: string): Promise<ContainerInfo[]> {
    const l = [...this.instances.values()].map((e) => ({ ...e.info })).filter((i) => i.podUid === podUid);
    return Promise.resolve(l.sort((a, b) => (a.name === b.name ? a.attempt - b.attempt : a.name < b.name ? -1 : 1)));
  }
  listPods(): Promise<string[]> {
    return Promise.resolve([...new Set([...this.instances.values()].map((e) => e.info.podUid))]);
  }
  stop(ref: ContainerRef, graceMs: number): Promise<void> {
    this.stops.push({ ref: { podUid: ref.podUid, name: ref.name, attempt: ref.attempt }, graceMs });
    this.exit(ref, 137);
    return Promise.resolve();
  }
  removePod(podUid: string): Promise<void> {
    for (const [k, e] of this.instances) if (e.info.podUid === podUid) this.instances.delete(k);
    return Promise.resolve();
  }
  onExit(l: (i: ContainerInfo) => void): void {
    this.listeners.push(l);
  }
  close(): void {}

  exit(ref: ContainerRef, exitCode: number): void {
    const e = this.instances.get(key(ref));
    if (!e || e.info.state === 'exited') return;
    e.info = { ...e.info, state: 'exited', exitCode, finishedAt: this.clock.now(), reason: exitCode === 0 ? 'Completed' : 'Error' };
    for (const l of this.listeners) l({ ...e.info });
  }
  attempts(podUid: string, name: string): ContainerInfo[] {
    return [...this.instances.values()].map((e) => e.info).filter((i) => i.podUid === podUid && i.name === name).sort((a, b) => a.attempt - b.attempt);
  }
}

class RecordingSink implements PodSink {
  readonly statuses: PodStatus[] = [];
  readonly events: string[] = [];
  deleted = 0;
  configMap(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  secret(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  patchStatus(_pod: Pod, status: PodStatus): Promise<void> {
    this.statuses.push(status);
    return Promise.resolve();
  }
  recordPorts(): Promise<void> {
    return Promise.resolve();
  }
  deletePod(): Promise<void> {
    this.deleted++;
    return Promise.resolve();
  }
  event(_pod: Pod, type: string, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
  }
  get last(): PodStatus | undefined {
    return this.statuses.at(-1);
  }
}

describe('pod worker (executing the plan)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trireme-worker-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let seq = 0;
  function setup(spec: Pod['spec']): { worker: PodWorker; rt: MemoryRuntime; sink: RecordingSink; clock: FakeClock; uid: string; finished: string[]; probes: ProbeManager } {
    const clock = new FakeClock();
    const rt = new MemoryRuntime(clock);
    const sink = new RecordingSink();
    const probes = new ProbeManager({ clock });
    const uid = `uid-${++seq}`;
    const deps: WorkerDeps = {
      nodeName: 'n1', nodeIp: '127.0.0.1', podsDir: dir, runtime: rt, ports: new PortAllocator([42000, 42100]), probes, clock,
      logger: silentLogger, backoff: { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 }, volumeRefreshMs: 60_000,
    };
    const finished: string[] = [];
    const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid }, spec: spec! };
    const worker = new PodWorker(pod, sink, deps, (u) => finished.push(u));
    rt.onExit(() => worker.kick());
    return { worker, rt, sink, clock, uid, finished, probes };
  }

  /** Waits until the worker finished a sync that started after this call: the first round may
   *  only see a sync that was already running finish, the second a sync started after it. */
  async function synced(worker: PodWorker): Promise<void> {
    for (let round = 0; round < 2; round++) {
      const n = worker.syncs;
      worker.kick();
      await pollUntil('a sync of the worker', () => worker.syncs > n, { timeoutMs: 5000, everyMs: 5 });
    }
  }

  it('restarts a crashed container at once, then backs off by the clock (CrashLoopBackOff)', async () => {
    const { worker, rt, sink, clock, uid } = setup({ containers: [{ name: 'c', image: 'none', command: ['run'] }] });
    worker.kick();
    await pollUntil('attempt 0 running', () => rt.attempts(uid, 'c')[0]?.state === 'running', { timeoutMs: 5000, everyMs: 5 });
    await pollUntil('status Running', () => sink.last?.phase === 'Running' && sink.last.containerStatuses?.[0]?.ready === true, { timeoutMs: 5000, everyMs: 5 });

    rt.exit({ podUid: uid, name: 'c', attempt: 0 }, 1);
    await pollUntil('attempt 1 running', () => rt.attempts(uid, 'c')[1]?.state === 'running', { timeoutMs: 5000, everyMs: 5 });

    rt.exit({ podUid: uid, name: 'c', attempt: 1 }, 1);
    await pollUntil('CrashLoopBackOff', () => sink.last?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', { timeoutMs: 5000, everyMs: 5 });
    const cs = sink.last!.containerStatuses![0]!;
    assert.equal(cs.state?.waiting?.message, `back-off 10s restarting failed container=c pod=p_ns(${uid})`);
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.equal(cs.restartCount, 1);
    assert.ok(sink.events.includes('Warning BackOff Back-off restarting failed container'));

    // 1 ms before the back-off ends a sync still waits.
    clock.advance(9_999);
    await synced(worker);
    assert.equal(rt.attempts(uid, 'c').length, 2);
    // The timer the worker set for the end of the back-off starts the next attempt.
    clock.advance(1);
    await pollUntil('attempt 2 running', () => rt.attempts(uid, 'c')[2]?.state === 'running', { timeoutMs: 5000, everyMs: 5 });
    await pollUntil('status restartCount 2', () => sink.last?.containerStatuses?.[0]?.restartCount === 2 && sink.last.containerStatuses[0].state?.running !== undefined, { timeoutMs: 5000, everyMs: 5 });
    worker.stop();
  });

  it('a failed liveness probe kills the instance with the probe\'s grace, then the policy restarts it', async () => {
    const { worker, rt, sink, clock, uid, probes } = setup({
      containers: [{
        name: 'c', image: 'none', command: ['run'],
        readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
        livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 2 },
      }],
    });
    worker.kick();
    await pollUntil('probes registered', () => probes.result(uid, 'c', 'liveness') !== undefined, { timeoutMs: 5000, everyMs: 5 });
    // Registered but not run yet: running, not ready.
    await pollUntil('status posted', () => sink.last?.containerStatuses?.[0]?.state?.running !== undefined, { timeoutMs: 5000, everyMs: 5 });
    assert.equal(sink.last!.containerStatuses![0]!.ready, false);
    clock.advance(0); // the probes' first runs (initialDelay 0): real `true` and `false` processes
    await pollUntil('killed and restarted', () => rt.attempts(uid, 'c')[1]?.state === 'running', { timeoutMs: 10_000, everyMs: 10 });
    assert.deepEqual(rt.stops, [{ ref: { podUid: uid, name: 'c', attempt: 0 }, graceMs: 2000 }]);
    assert.ok(sink.events.includes('Normal Killing Container c failed liveness probe, will be restarted'), sink.events.join('\n'));
    assert.ok(sink.events.some((e) => e.startsWith('Warning Unhealthy Liveness probe failed')), sink.events.join('\n'));
    await pollUntil('probes registered for attempt 1', async () => {
      await synced(worker);
      return probes.result(uid, 'c', 'liveness') !== undefined;
    }, { timeoutMs: 5000, everyMs: 5 });
    worker.stop();
  });

  it('runs init containers one at a time, then the app container', async () => {
    const { worker, rt, sink, uid } = setup({
      initContainers: [{ name: 'i1', image: 'none', command: ['a'] }, { name: 'i2', image: 'none', command: ['b'] }],
      containers: [{ name: 'c', image: 'none', command: ['run'] }],
    });
    worker.kick();
    await pollUntil('i1 running', () => rt.attempts(uid, 'i1')[0]?.state === 'running', { timeoutMs: 5000, everyMs: 5 });
    await synced(worker);
    assert.equal(rt.attempts(uid, 'i2').length, 0, 'i2 waits for i1');
    assert.equal(sink.last?.phase, 'Pending');
    assert.equal(sink.last?.containerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
    rt.exit({ podUid: uid, name: 'i1', attempt: 0 }, 0);
    await pollUntil('i2 running', () => rt.attempts(uid, 'i2')[0]?.state === 'running', { timeoutMs: 5000, everyMs: 5 });
    assert.equal(rt.attempts(uid, 'c').length, 0, 'the app container waits for i2');
    rt.exit({ podUid: uid, name: 'i2', attempt: 0 }, 0);
    await pollUntil('c running', () => rt.attempts(uid, 'c')[0]?.state === 'running', { timeoutMs: 5000, everyMs: 5 });
    await pollUntil('Initialized', () => sink.last?.conditions?.find((c) => c.type === 'Initialized')?.status === 'True', { timeoutMs: 5000, everyMs: 5 });
    worker.stop();
  });

  it('a deleted pod: every live instance stopped within the deletion grace, deleted from the API, cleaned up', async () => {
    const { worker, rt, sink, uid, finished } = setup({ containers: [{ name: 'a', image: 'none', command: ['run'] }, { name: 'b', image: 'none', command: ['run'] }] });
    worker.kick();
    await pollUntil('both running', () => rt.attempts(uid, 'a').length === 1 && rt.attempts(uid, 'b').length === 1, { timeoutMs: 5000, everyMs: 5 });
    worker.update({ ...worker.current, metadata: { ...worker.current.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 5 } });
    await pollUntil('finished', () => finished.includes(uid), { timeoutMs: 5000, everyMs: 5 });
    assert.deepEqual(rt.stops.map((s) => [s.ref.name, s.graceMs]).sort(), [['a', 5000], ['b', 5000]]);
    assert.equal(sink.deleted, 1);
    assert.equal((await rt.listPod(uid)).length, 0);
    assert.ok(sink.events.includes('Normal Killing Stopping container a'));
  });
});
