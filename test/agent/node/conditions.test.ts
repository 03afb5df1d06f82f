import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideConditions, type ConditionDecision, type ConditionInputs, type HostReadings } from '../../../src/agent/node/conditions.js';
import { DEFAULT_THRESHOLDS, NO_RESERVATION, parseThresholds } from '../../../src/agent/node/thresholds.js';

const Gi = 2 ** 30;
const Mi = 2 ** 20;
const NOW = 1_700_000_000_000;

/** A healthy host: 8Gi memory with 4Gi available, one 100Gi filesystem half free, 1000 of 100000 pids. */
function healthy(): HostReadings {
  return {
    memory: { totalBytes: 8 * Gi, availableBytes: 4 * Gi },
    filesystems: [{ paths: ['/data', '/data/agent/pods'], capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1_000_000, inodesFree: 900_000 }],
    pids: { limit: 100_000, inUse: 1000 },
    runtimeProblems: [],
  };
}

function inputs(over: Partial<ConditionInputs> = {}, readings: Partial<HostReadings> = {}): ConditionInputs {
  return { readings: { ...healthy(), ...readings }, thresholds: DEFAULT_THRESHOLDS, reserved: NO_RESERVATION, transitionMs: 0, memory: {}, now: NOW, ...over };
}

const get = (cs: ConditionDecision[], type: string): ConditionDecision => {
  const c = cs.find((x) => x.type === type);
  assert.ok(c, type);
  return c;
};

describe('decideConditions', () => {
  it('a healthy host: the kubelet\'s healthy reasons, in the kubelet\'s order', () => {
    const { conditions, memory } = decideConditions(inputs());
    assert.deepEqual(conditions.map((c) => [c.type, c.status, c.reason]), [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
    assert.deepEqual(memory, {});
  });

  // One row per signal: a reading just under and just over its threshold.
  const fs = (o: Partial<{ availableBytes: number; inodesFree: number; inodes: number }>) =>
    ({ filesystems: [{ paths: ['/data'], capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1_000_000, inodesFree: 900_000, ...o }] });
  const table: Array<[name: string, readings: Partial<HostReadings>, type: string, status: 'True' | 'False', reason: string]> = [
    ['memory 99Mi available < 100Mi', { memory: { totalBytes: 8 * Gi, availableBytes: 99 * Mi } }, 'MemoryPressure', 'True', 'KubeletHasInsufficientMemory'],
    ['memory exactly 100Mi available', { memory: { totalBytes: 8 * Gi, availableBytes: 100 * Mi } }, 'MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
    ['disk 9.9% available < 10%', fs({ availableBytes: 9.9 * Gi }), 'DiskPressure', 'True', 'KubeletHasDiskPressure'],
    ['disk 10% available', fs({ availableBytes: 10 * Gi }), 'DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
    ['inodes 4.9% free < 5%', fs({ inodesFree: 49_000 }), 'DiskPressure', 'True', 'KubeletHasDiskPressure'],
    ['a filesystem without inode counts', fs({ inodes: 0, inodesFree: 0 }), 'DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
    ['pids 9.9% available < 10%', { pids: { limit: 100_000, inUse: 90_100 } }, 'PIDPressure', 'True', 'KubeletHasInsufficientPID'],
    ['pids 10% available', { pids: { limit: 100_000, inUse: 90_000 } }, 'PIDPressure', 'False', 'KubeletHasSufficientPID'],
  ];
  for (const [name, readings, type, status, reason] of table) {
    it(`${name} → ${type}=${status}`, () => {
      const c = get(decideConditions(inputs({}, readings)).conditions, type);
      assert.equal(c.status, status);
      assert.equal(c.reason, reason);
    });
  }

  it('the message names the signal, the values and the filesystem under pressure', () => {
    const readings: Partial<HostReadings> = {
      filesystems: [
        { paths: ['/data'], capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 0, inodesFree: 0 },
        { paths: ['/logs'], capacityBytes: 10 * Gi, availableBytes: 512 * Mi, inodes: 0, inodesFree: 0 },
      ],
    };
    const c = get(decideConditions(inputs({}, readings)).conditions, 'DiskPressure');
    assert.equal(c.status, 'True');
    assert.equal(c.message, 'kubelet has disk pressure: nodefs.available 512Mi of 10Gi on /logs (threshold 10%)');
  });

  it('a threshold above the current free space (as the integration test sets it) → DiskPressure', () => {
    const c = get(decideConditions(inputs({ thresholds: parseThresholds('nodefs.available<100%') })).conditions, 'DiskPressure');
    assert.equal(c.status, 'True');
  });

  it('a reservation of pids is kept out of the pods\' budget', () => {
    // 100000 - 20000 reserved = 80000 budget, 10% = 8000; 80000 - 73000 = 7000 left → pressure.
    const r = { pids: { limit: 100_000, inUse: 73_000 } };
    assert.equal(get(decideConditions(inputs({}, r)).conditions, 'PIDPressure').status, 'False');
    const c = get(decideConditions(inputs({ reserved: { ...NO_RESERVATION, pid: 20_000 } }, r)).conditions, 'PIDPressure');
    assert.equal(c.status, 'True');
    assert.match(c.message, /pid\.available 7000 of 100000, 20000 reserved/);
  });

  it('a percentage memory threshold is taken of the total', () => {
    const t = parseThresholds('memory.available<60%');
    assert.equal(get(decideConditions(inputs({ thresholds: t })).conditions, 'MemoryPressure').status, 'True'); // 4 of 8Gi = 50%
  });

  it('a reading that failed gives Unknown with the error, not a guess', () => {
    const c = get(decideConditions(inputs({}, { memory: { error: 'memory: ENOENT /proc/meminfo' } })).conditions, 'MemoryPressure');
    assert.deepEqual([c.status, c.reason], ['Unknown', 'KubeletCannotReadHost']);
    assert.match(c.message, /ENOENT \/proc\/meminfo/);
  });

  it('runtime problems → Ready=False, KubeletNotReady, with every problem in the message', () => {
    const c = get(decideConditions(inputs({}, { runtimeProblems: ['container shim /x is not executable: ENOENT', 'data dir /d is not writable: EROFS'] })).conditions, 'Ready');
    assert.deepEqual([c.status, c.reason], ['False', 'KubeletNotReady']);
    assert.equal(c.message, 'container runtime cannot start containers: container shim /x is not executable: ENOENT; data dir /d is not writable: EROFS');
  });

  it('transition period: True while the signal was below within the period, False after; memory records the last time below', () => {
    const low = { memory: { totalBytes: 8 * Gi, availableBytes: 50 * Mi } };
    const first = decideConditions(inputs({ transitionMs: 60_000 }, low));
    assert.equal(get(first.conditions, 'MemoryPressure').status, 'True');
    assert.deepEqual(first.memory, { 'memory.available': NOW });
    // Cleared 30 s later: still True (within 60 s), memory unchanged.
    const during = decideConditions(inputs({ transitionMs: 60_000, memory: first.memory, now: NOW + 30_000 }));
    const c = get(during.conditions, 'MemoryPressure');
    assert.equal(c.status, 'True');
    assert.match(c.message, /memory\.available was below its threshold 30s ago \(transition period 60s\)/);
    assert.deepEqual(during.memory, first.memory);
    // 60 s after the last time below: False.
    const after = decideConditions(inputs({ transitionMs: 60_000, memory: first.memory, now: NOW + 60_000 }));
    assert.equal(get(after.conditions, 'MemoryPressure').status, 'False');
    // Other conditions are not held by another signal's memory.
    assert.equal(get(during.conditions, 'DiskPressure').status, 'False');
  });
});
