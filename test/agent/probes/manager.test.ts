import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Probe } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../../src/util/clock.js';
import { ProbeManager } from '../../../src/agent/probes/manager.js';
import type { ProbeContext, ProbeOutcome } from '../../../src/agent/probes/types.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A context whose exec probe answers from a script of exit codes (or hangs on 'hang'). */
function scripted(codes: (number | 'hang')[]): ProbeContext & { calls: number[] } {
  const calls: number[] = [];
  const clockless = {
    host: '127.0.0.1',
    calls,
    resolvePort: (p: number | string) => (typeof p === 'number' ? p : undefined),
    exec: (_cmd: string[], timeoutMs: number) => {
      calls.push(timeoutMs);
      const c = codes.shift() ?? 0;
      if (c === 'hang') return new Promise<{ exitCode: number; output: string }>(() => undefined);
      return Promise.resolve({ exitCode: c, output: c === 0 ? '' : `exit ${c}` });
    },
  };
  return clockless;
}

const execProbe = (extra: Partial<Probe> = {}): Probe => ({ exec: { command: ['check'] }, ...extra });

async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flush();
  }
}

test('readiness: initial delay, period and success/failure thresholds', async () => {
  const clock = new FakeClock();
  const m = new ProbeManager({ clock });
  const ctx = scripted([1, 0, 0, 1, 1]);
  const changes: ProbeOutcome[] = [];
  m.add('u1', 'c', 'readiness', execProbe({ initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 2, failureThreshold: 2 }), ctx, (r) => changes.push(r));
  assert.equal(m.isReady('u1', 'c'), false);
  await advance(clock, 4900);
  assert.equal(ctx.calls.length, 0, 'nothing runs before the initial delay');
  await advance(clock, 100);
  assert.equal(ctx.calls.length, 1);
  assert.equal(ctx.calls[0], 1000, 'default timeout passed to exec');
  await advance(clock, 2000); // second run: success 1
  assert.equal(m.isReady('u1', 'c'), false);
  await advance(clock, 2000); // third run: success 2 → ready
  assert.equal(m.isReady('u1', 'c'), true);
  assert.deepEqual(changes, [{ success: true, message: '' }]);
  await advance(clock, 4000); // two failures → not ready
  assert.equal(m.isReady('u1', 'c'), false);
  assert.equal(changes.length, 2);
  assert.equal(changes[1]!.success, false);
  assert.equal(changes[1]!.message, 'exit 1');
  m.remove('u1');
  await advance(clock, 10_000);
  assert.equal(ctx.calls.length, 5, 'no runs after remove');
});

test('liveness: fails after failureThreshold, reports once, then holds', async () => {
  const clock = new FakeClock();
  const m = new ProbeManager({ clock });
  const ctx = scripted([1, 1, 1, 1, 1, 1]);
  const changes: ProbeOutcome[] = [];
  const failures: string[] = [];
  m.add('u', 'c', 'liveness', execProbe({ periodSeconds: 1 }), ctx, (r) => changes.push(r), { onFailure: (msg) => failures.push(msg) });
  await advance(clock, 100);
  assert.equal(m.isAlive('u', 'c'), true);
  await advance(clock, 2000);
  assert.equal(m.isAlive('u', 'c'), false);
  assert.deepEqual(changes, [{ success: false, message: 'exit 1' }]);
  assert.equal(failures.length, 3, 'each failed run is reported for events');
  await advance(clock, 5000);
  assert.equal(ctx.calls.length, 3, 'held after the failure');
  // The container restarts: the pod worker adds the probe again for the new instance.
  m.add('u', 'c', 'liveness', execProbe({ periodSeconds: 1 }), scripted([0]), (r) => changes.push(r));
  assert.equal(m.isAlive('u', 'c'), true);
});

test('a run that does not finish within timeoutSeconds is a failure', async () => {
  const clock = new FakeClock();
  const m = new ProbeManager({ clock });
  const ctx = scripted(['hang', 0]);
  const changes: ProbeOutcome[] = [];
  m.add('u', 'c', 'readiness', execProbe({ timeoutSeconds: 2, periodSeconds: 5, failureThreshold: 1 }), ctx, (r) => changes.push(r));
  await advance(clock, 100);
  assert.equal(ctx.calls[0], 2000);
  await advance(clock, 2100);
  assert.equal(m.result('u', 'c', 'readiness')?.message, 'probe did not complete within 2s');
  // The next run starts one period after the previous one started.
  await advance(clock, 2700);
  assert.equal(ctx.calls.length, 1);
  await advance(clock, 200);
  assert.equal(ctx.calls.length, 2);
  assert.equal(m.isReady('u', 'c'), true);
  assert.deepEqual(changes.map((c) => c.success), [true]);
});

test('startup gates liveness and readiness; success stops the startup probe', async () => {
  const clock = new FakeClock();
  const m = new ProbeManager({ clock });
  const startup = scripted([1, 1, 0]);
  const ready = scripted([0, 0, 0, 0]);
  const live = scripted([0, 0, 0, 0]);
  const events: string[] = [];
  m.add('u', 'c', 'readiness', execProbe({ periodSeconds: 1 }), ready, (r) => events.push(`readiness:${r.success}`));
  m.add('u', 'c', 'liveness', execProbe({ periodSeconds: 1 }), live, (r) => events.push(`liveness:${r.success}`));
  m.add('u', 'c', 'startup', execProbe({ periodSeconds: 3, failureThreshold: 5 }), startup, (r) => events.push(`startup:${r.success}`));
  assert.equal(m.startupDone('u', 'c'), false);
  await advance(clock, 5000);
  assert.equal(ready.calls.length, 0, 'readiness waits for startup');
  assert.equal(live.calls.length, 0, 'liveness waits for startup');
  assert.equal(m.isReady('u', 'c'), false);
  await advance(clock, 1100); // startup's third run at t=6s succeeds
  assert.equal(m.startupDone('u', 'c'), true);
  assert.equal(m.isReady('u', 'c'), true, 'readiness ran as soon as startup succeeded');
  assert.equal(live.calls.length, 1, 'liveness ran as soon as startup succeeded');
  assert.deepEqual(events, ['startup:true', 'readiness:true']);
  await advance(clock, 10_000);
  assert.equal(startup.calls.length, 3, 'startup probe stops once it succeeded');
});

test('startup failure after failureThreshold is reported once', async () => {
  const clock = new FakeClock();
  const m = new ProbeManager({ clock });
  const startup = scripted([1, 1, 1, 1, 1]);
  const events: ProbeOutcome[] = [];
  m.add('u', 'c', 'startup', execProbe({ periodSeconds: 1, failureThreshold: 2 }), startup, (r) => events.push(r));
  await advance(clock, 5000);
  assert.deepEqual(events, [{ success: false, message: 'exit 1' }]);
  assert.equal(startup.calls.length, 2);
  assert.equal(m.startupDone('u', 'c'), false);
});

test('initial delay counts from the recorded start of a re-adopted container', async () => {
  const clock = new FakeClock();
  const m = new ProbeManager({ clock });
  const ctx = scripted([0]);
  m.add('u', 'c', 'readiness', execProbe({ initialDelaySeconds: 30 }), ctx, () => undefined, { startedAt: clock.now() - 29_000 });
  await advance(clock, 1000);
  assert.equal(m.isReady('u', 'c'), true);
});

test('no probes: ready, started and alive', () => {
  const m = new ProbeManager({ clock: new FakeClock() });
  assert.equal(m.isReady('x', 'y'), true);
  assert.equal(m.startupDone('x', 'y'), true);
  assert.equal(m.isAlive('x', 'y'), true);
  assert.equal(m.result('x', 'y', 'readiness'), undefined);
});
