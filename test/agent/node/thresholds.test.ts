import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_THRESHOLDS, DEFAULT_THRESHOLDS_FLAG, formatBytes, NO_RESERVATION, parseSystemReserved, parseThresholds, thresholdAmount,
} from '../../../src/agent/node/thresholds.js';
import { isTriremeError } from '../../../src/errors.js';

const invalid = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isTriremeError(e, 'Invalid') && re.test(e.message));

describe('parseThresholds', () => {
  it('the documented default flag is the default', () => {
    assert.deepEqual(parseThresholds(DEFAULT_THRESHOLDS_FLAG, { ...DEFAULT_THRESHOLDS, 'pid.available': { quantity: 1 } }), DEFAULT_THRESHOLDS);
    assert.deepEqual(parseThresholds(''), DEFAULT_THRESHOLDS);
  });

  it('given signals replace their default; the others keep it', () => {
    const t = parseThresholds('nodefs.available<100%, memory.available<1Gi');
    assert.deepEqual(t['nodefs.available'], { percent: 100 });
    assert.deepEqual(t['memory.available'], { quantity: 2 ** 30 });
    assert.deepEqual(t['nodefs.inodesFree'], DEFAULT_THRESHOLDS['nodefs.inodesFree']);
    assert.deepEqual(t['pid.available'], DEFAULT_THRESHOLDS['pid.available']);
    assert.deepEqual(parseThresholds('pid.available<1000')['pid.available'], { quantity: 1000 });
    assert.deepEqual(parseThresholds('memory.available<0')['memory.available'], { quantity: 0 });
  });

  it('rejects what the kubelet would not take, naming the item', () => {
    invalid(() => parseThresholds('memory.available>1Gi'), /memory\.available>1Gi.*only < is supported/);
    invalid(() => parseThresholds('imagefs.available<15%'), /unknown signal imagefs\.available/);
    invalid(() => parseThresholds('nodefs.available<110%'), /0\.\.100%/);
    invalid(() => parseThresholds('nodefs.available<%'), /0\.\.100%/);
    invalid(() => parseThresholds('memory.available<lots'), /not a non-negative quantity: lots/);
    invalid(() => parseThresholds('memory.available<-1'), /not a non-negative quantity/);
  });

  it('thresholdAmount: a percentage of the capacity, or the amount', () => {
    assert.equal(thresholdAmount({ percent: 10 }, 5000), 500);
    assert.equal(thresholdAmount({ quantity: 7 }, 5000), 7);
  });
});

describe('parseSystemReserved', () => {
  it('the kubelet syntax, cpu in millicores', () => {
    assert.deepEqual(parseSystemReserved('cpu=500m,memory=1Gi,ephemeral-storage=1Gi,pid=1000'), { milliCpu: 500, memory: 2 ** 30, ephemeralStorage: 2 ** 30, pid: 1000 });
    assert.deepEqual(parseSystemReserved('cpu=1.5'), { ...NO_RESERVATION, milliCpu: 1500 });
    assert.deepEqual(parseSystemReserved(''), NO_RESERVATION);
  });

  it('rejects unknown names, bad quantities and fractional pids', () => {
    invalid(() => parseSystemReserved('gpu=1'), /"gpu=1".*cpu, memory, ephemeral-storage, pid/);
    invalid(() => parseSystemReserved('memory'), /expected name=quantity/);
    invalid(() => parseSystemReserved('memory=much'), /not a non-negative quantity: much/);
    invalid(() => parseSystemReserved('pid=1.5'), /whole number/);
  });
});

it('formatBytes', () => {
  assert.equal(formatBytes(512), '512');
  assert.equal(formatBytes(1536), '1.5Ki');
  assert.equal(formatBytes(100 * 2 ** 20), '100Mi');
  assert.equal(formatBytes(3.25 * 2 ** 30), '3.3Gi');
});
