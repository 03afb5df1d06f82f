// Readiness until the first success: the schedule decision, and the probe manager on a fake clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/util/clock.js';
import { ProbeManager } from '../../../src/agent/probes/manager.js';
import { nextRunAt, probeIntervalMs, reportFailure } from '../../../src/agent/probes/schedule.js';
import type { ProbeContext } from '../../../src/agent/probes/types.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

async function advance(clock: FakeClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flush();
  }
}

/** An exec context that fails until `serving()` is true; records when each run happened. */
function server(clock: FakeClock, serving: () => boolean): ProbeContext & { runs: number[] } {
  const runs: number[] = [];
  return {
    host: '127.0.0.1', runs,
    resolvePort: () => undefined,
    exec: () => {
      runs.push(clock.now());
      return Promise.resolve(serving() ? { exitCode: 0, output: '' } : { exitCode: 1, output: 'connection refused' });
    },
  };
}

describe('probe schedule (pure)', () => {
  const base = { periodMs: 10_000, firstSuccessIntervalMs: 100 };
  it('readiness before its first success runs at the short interval, after it at the period', () => {
    assert.equal(probeIntervalMs({ ...base, kind: 'readiness', everSucceeded: false }), 100);
    assert.equal(probeIntervalMs({ ...base, kind: 'readiness', everSucceeded: true }), 10_000);
    assert.equal(nextRunAt({ ...base, kind: 'readiness', everSucceeded: false }, 5_000), 5_100);
    assert.equal(nextRunAt({ ...base, kind: 'readiness', everSucceeded: true }, 5_000), 15_000);
  });
  it('liveness and startup keep their period; 0 turns the fast phase off; never slower than the period', () => {
    assert.equal(probeIntervalMs({ ...base, kind: 'liveness', everSucceeded: false }), 10_000);
    assert.equal(probeIntervalMs({ ...base, kind: 'startup', everSucceeded: false }), 10_000);
    assert.equal(probeIntervalMs({ ...base, firstSuccessIntervalMs: 0, kind: 'readiness', everSucceeded: false }), 10_000);
    assert.equal(probeIntervalMs({ periodMs: 1_000, firstSuccessIntervalMs: 5_000, kind: 'readiness', everSucceeded: false }), 1_000);
  });
  it('fast-phase failures are reported at most once per period', () => {
    const s = { ...base, kind: 'readiness' as const, everSucceeded: false };
    assert.equal(reportFailure(s, 0, undefined), true);
    assert.equal(reportFailure(s, 9_900, 0), false);
    assert.equal(reportFailure(s, 10_000, 0), true);
    assert.equal(reportFailure({ ...s, everSucceeded: true }, 100, 0), true, 'at the normal period every failure counts');
  });
});

describe('readiness probe until the first success (fake clock)', () => {
  it('turns ready within the short interval of serving, then probes every period; initialDelay still applies', async () => {
    const clock = new FakeClock();
    const m = new ProbeManager({ clock, readinessFirstSuccessIntervalMs: 100 });
    const start = clock.now();
    let servingFrom = start + 3_000;
    const ctx = server(clock, () => clock.now() >= servingFrom);
    const failures: string[] = [];
    const changes: boolean[] = [];
    m.add('u1', 'c', 'readiness', { exec: { command: ['check'] }, periodSeconds: 10, initialDelaySeconds: 1 }, ctx, (r) => changes.push(r.success), { onFailure: (msg) => failures.push(msg) });
    await advance(clock, 990);
    assert.equal(ctx.runs.length, 0, 'nothing before initialDelaySeconds');
    await advance(clock, 2_300);
    assert.equal(m.isReady('u1', 'c'), true);
    const readyRun = ctx.runs.at(-1)!;
    assert.ok(readyRun >= servingFrom && readyRun - servingFrom <= 100, `ready ${readyRun - servingFrom} ms after serving`);
    assert.deepEqual(changes, [true]);
    assert.equal(failures.length, 1, 'fast retries do not flood Unhealthy events');
    const runsWhenReady = ctx.runs.length;
    await advance(clock, 9_000);
    assert.equal(ctx.runs.length, runsWhenReady, 'after the first success: periodSeconds');
    await advance(clock, 1_100);
    assert.equal(ctx.runs.length, runsWhenReady + 1);
    // Not serving any more: readiness fails at the normal period, no fast phase for this instance.
    servingFrom = Infinity;
    await advance(clock, 35_000);
    assert.equal(m.isReady('u1', 'c'), false);
    assert.equal(ctx.runs.length, runsWhenReady + 4);
    m.stopAll();
  });

  it('a new instance (add again, as after a restart) starts in the fast phase again', async () => {
    const clock = new FakeClock();
    const m = new ProbeManager({ clock, readinessFirstSuccessIntervalMs: 100 });
    let up = true;
    const ctx = server(clock, () => up);
    const probe = { exec: { command: ['check'] }, periodSeconds: 10 };
    m.add('u1', 'c', 'readiness', probe, ctx, () => undefined);
    await advance(clock, 100);
    assert.equal(m.isReady('u1', 'c'), true);
    up = false;
    m.add('u1', 'c', 'readiness', probe, ctx, () => undefined);
    await advance(clock, 500);
    const before = ctx.runs.length;
    up = true;
    await advance(clock, 150);
    assert.equal(m.isReady('u1', 'c'), true);
    assert.ok(ctx.runs.length > before);
    m.stopAll();
  });

  it('without the option, readiness waits out periodSeconds (the default of ProbeManager)', async () => {
    const clock = new FakeClock();
    const m = new ProbeManager({ clock });
    const servingFrom = clock.now() + 500;
    const ctx = server(clock, () => clock.now() >= servingFrom);
    m.add('u1', 'c', 'readiness', { exec: { command: ['check'] }, periodSeconds: 10 }, ctx, () => undefined);
    await advance(clock, 9_000);
    assert.equal(m.isReady('u1', 'c'), false);
    await advance(clock, 1_100);
    assert.equal(m.isReady('u1', 'c'), true);
    m.stopAll();
  });
});
