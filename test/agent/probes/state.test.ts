import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeState } from '../../../src/agent/probes/state.js';
import { probeTiming, probeTerminationGracePeriodSeconds } from '../../../src/agent/probes/spec.js';

test('defaults and minimums follow the API', () => {
  assert.deepEqual(probeTiming({}, 'readiness'), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(probeTiming({ periodSeconds: 0, timeoutSeconds: 0, failureThreshold: 0, successThreshold: 5, initialDelaySeconds: 7 }, 'liveness'),
    { initialDelayMs: 7000, periodMs: 1000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 1 });
  assert.equal(probeTiming({ successThreshold: 3 }, 'readiness').successThreshold, 3);
});

test('probe terminationGracePeriodSeconds overrides the pod one', () => {
  assert.equal(probeTerminationGracePeriodSeconds({ terminationGracePeriodSeconds: 5 }, 30), 5);
  assert.equal(probeTerminationGracePeriodSeconds({}, 12), 12);
  assert.equal(probeTerminationGracePeriodSeconds(undefined, undefined), 30);
});

test('liveness starts alive and fails after failureThreshold consecutive failures', () => {
  const s = new ProbeState('liveness', { successThreshold: 1, failureThreshold: 3 });
  assert.equal(s.result, true);
  assert.equal(s.record(false), 'none');
  assert.equal(s.record(false), 'none');
  assert.equal(s.record(true), 'none'); // a success resets the run
  assert.equal(s.record(false), 'none');
  assert.equal(s.record(false), 'none');
  assert.equal(s.record(false), 'changed');
  assert.equal(s.result, false);
});

test('readiness starts not ready and needs successThreshold successes', () => {
  const s = new ProbeState('readiness', { successThreshold: 2, failureThreshold: 2 });
  assert.equal(s.result, false);
  assert.equal(s.record(true), 'none');
  assert.equal(s.record(false), 'none');
  assert.equal(s.record(true), 'none');
  assert.equal(s.record(true), 'changed');
  assert.equal(s.result, true);
  assert.equal(s.record(false), 'none');
  assert.equal(s.record(false), 'changed');
  assert.equal(s.result, false);
  // Failing while already not ready says nothing new.
  assert.equal(s.record(false), 'none');
});

test('startup reports a failure once the threshold is reached although it never succeeded', () => {
  const s = new ProbeState('startup', { successThreshold: 1, failureThreshold: 2 });
  assert.equal(s.record(false), 'none');
  assert.equal(s.record(false), 'failed-again');
  assert.equal(s.record(false), 'none');
  s.resetCounters();
  assert.equal(s.record(true), 'changed');
  assert.equal(s.result, true);
});
