// The usage sampler (src/agent/stats/sampler.ts) over hand-made /proc readings and a fake clock:
// rates come from two samples of the same instance, the window is the samples' span.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningContainer } from '../../../src/agent/pods/manager.js';
import type { PidStat } from '../../../src/agent/stats/proc-read.js';
import { ResourceSampler, type StatsSources } from '../../../src/agent/stats/sampler.js';
import { FakeClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';

function world() {
  const clock = new FakeClock(1_700_000_000_000);
  const state = {
    busy: 0, total: 0,
    pids: [] as PidStat[],
    containers: [] as RunningContainer[],
  };
  const sources: StatsSources = {
    nodeCpu: async () => ({ times: { busy: state.busy, total: state.total }, cpus: 2 }),
    meminfo: async () => ({ totalBytes: 8 * 1024 ** 3, availableBytes: 6 * 1024 ** 3 }),
    pidStats: async () => state.pids,
    units: { ticksPerSecond: 100, pageSize: 4096 },
  };
  const sampler = new ResourceSampler({ nodeName: 'n1', containers: async () => state.containers, clock, logger: silentLogger, sources });
  return { clock, state, sampler };
}

const container = (pid: number, attempt = 0): RunningContainer => ({ podUid: 'u1', namespace: 'default', podName: 'web', container: 'main', attempt, pid, startedAt: 1_699_999_990_000 });

describe('ResourceSampler', () => {
  test('nothing before the first sample; no rate after one; rates and window after two', async () => {
    const { clock, state, sampler } = world();
    assert.equal(sampler.summary(), undefined);
    state.containers = [container(100)];
    state.pids = [{ pid: 100, pgrp: 100, session: 100, ticks: 1000, rssPages: 256 }];
    await sampler.sample();
    const first = sampler.summary()!;
    assert.equal(first.node.cpu.usageNanoCores, undefined);
    assert.equal(first.pods[0]!.containers[0]!.cpu.usageNanoCores, undefined);
    assert.equal(first.node.memory.workingSetBytes, 2 * 1024 ** 3);

    clock.advance(2000);
    state.busy = 300; state.total = 400; // 3/4 of 2 CPUs
    state.pids = [{ pid: 100, pgrp: 100, session: 100, ticks: 1100, rssPages: 300 }, { pid: 101, pgrp: 100, session: 100, ticks: 50, rssPages: 10 }];
    await sampler.sample();
    const s = sampler.summary()!;
    assert.equal(s.node.cpu.usageNanoCores, 1.5e9);
    assert.equal(s.node.cpu.windowSeconds, 2);
    const c = s.pods[0]!.containers[0]!;
    // (1150 − 1000) ticks / 100 per s over 2 s = 0.75 cores.
    assert.equal(c.cpu.usageNanoCores, 0.75e9);
    assert.equal(c.cpu.windowSeconds, 2);
    assert.equal(c.cpu.usageCoreNanoSeconds, 11.5e9);
    assert.equal(c.memory.workingSetBytes, 310 * 4096);
    assert.equal(c.processes, 2);
    assert.equal(s.pods[0]!.podRef.name, 'web');
    assert.equal(c.cpu.time, new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'));
  });

  test('a restarted container (new attempt and pid) gets no rate across the two instances', async () => {
    const { clock, state, sampler } = world();
    state.containers = [container(100, 0)];
    state.pids = [{ pid: 100, pgrp: 100, session: 100, ticks: 5000, rssPages: 1 }];
    await sampler.sample();
    clock.advance(1000);
    state.containers = [container(120, 1)];
    state.pids = [{ pid: 120, pgrp: 120, session: 120, ticks: 10, rssPages: 1 }];
    await sampler.sample();
    assert.equal(sampler.summary()!.pods[0]!.containers[0]!.cpu.usageNanoCores, undefined);
    clock.advance(1000);
    state.pids = [{ pid: 120, pgrp: 120, session: 120, ticks: 60, rssPages: 1 }];
    await sampler.sample();
    assert.equal(sampler.summary()!.pods[0]!.containers[0]!.cpu.usageNanoCores, 0.5e9);
  });

  test('a container whose group has no process left is not reported', async () => {
    const { state, sampler } = world();
    state.containers = [container(100)];
    state.pids = [];
    await sampler.sample();
    assert.deepEqual(sampler.summary()!.pods, []);
  });

  test('a failed reading keeps the previous samples', async () => {
    const { clock, state, sampler } = world();
    state.containers = [container(100)];
    state.pids = [{ pid: 100, pgrp: 100, session: 100, ticks: 0, rssPages: 1 }];
    await sampler.sample();
    clock.advance(1000);
    state.pids = [{ pid: 100, pgrp: 100, session: 100, ticks: 100, rssPages: 1 }];
    await sampler.sample();
    const before = sampler.summary();
    state.pids = null as unknown as PidStat[]; // groupUsage throws on it
    clock.advance(1000);
    await sampler.sample();
    assert.deepEqual(sampler.summary(), before);
  });
});
