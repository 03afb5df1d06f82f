// The balancer's pure decisions: rise/fall thresholds over a fake clock's time, the passive
// mark-down on a failed connect, and the choice of backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { checkThresholds, initialHealth, observeCheck, observeConnectFailure, pickBackend, type BackendHealth, type Candidate } from '../../src/lb/health-plan.js';

const T = { rise: 2, fall: 3 };

function run(h: BackendHealth, results: (string | undefined)[], clock: FakeClock): { h: BackendHealth; transitions: string[] } {
  const transitions: string[] = [];
  for (const r of results) {
    clock.advance(1000);
    const o = observeCheck(h, r, clock.now(), T);
    h = o.health;
    if (o.transition) transitions.push(`${o.transition.from}->${o.transition.to}@${(clock.now() - 1_700_000_000_000) / 1000}`);
  }
  return { h, transitions };
}

test('unknown takes the first result at once', () => {
  const clock = new FakeClock();
  assert.deepEqual(run(initialHealth(clock.now()), [undefined], clock).transitions, ['unknown->up@1']);
  assert.deepEqual(run(initialHealth(clock.now()), ['refused'], clock).transitions, ['unknown->down@2']);
});

test('up goes down only after `fall` consecutive failures; a success in between resets the count', () => {
  const clock = new FakeClock();
  const { h, transitions } = run(initialHealth(clock.now()), [undefined, 'x', 'x', undefined, 'x', 'x', 'timeout'], clock);
  assert.deepEqual(transitions, ['unknown->up@1', 'up->down@7']);
  assert.equal(h.state, 'down');
  assert.equal(h.lastError, 'timeout');
  assert.equal(h.since, clock.now());
});

test('down comes up only after `rise` consecutive successes', () => {
  const clock = new FakeClock();
  const { h, transitions } = run(initialHealth(clock.now()), ['x', undefined, 'x', undefined, undefined, undefined], clock);
  assert.deepEqual(transitions, ['unknown->down@1', 'down->up@5']);
  assert.equal(h.state, 'up');
  assert.equal(h.lastError, undefined);
});

test('a failed connect takes an up backend down at once, and rise applies to come back', () => {
  const clock = new FakeClock();
  let h = run(initialHealth(clock.now()), [undefined], clock).h;
  const o = observeConnectFailure(h, 'ECONNREFUSED', clock.now());
  assert.deepEqual(o.transition, { from: 'up', to: 'down', reason: 'connect' });
  h = o.health;
  assert.equal(observeConnectFailure(h, 'ECONNREFUSED', clock.now()).transition, undefined, 'already down: no new transition');
  const back = run(h, [undefined, undefined], clock);
  assert.deepEqual(back.transitions, ['down->up@3']);
});

test('thresholds are validated', () => {
  assert.throws(() => checkThresholds({ rise: 0, fall: 2 }), /rise must be an integer/);
  assert.throws(() => checkThresholds({ rise: 2, fall: 1.5 }), /fall must be an integer/);
  assert.deepEqual(checkThresholds({ rise: 1, fall: 1 }), { rise: 1, fall: 1 });
});

test('pickBackend: up before unknown before down, fewest connections, round-robin on ties, never an excluded one', () => {
  const b = (state: Candidate['state'], active: number): Candidate => ({ state, active });
  const none = new Set<number>();
  assert.equal(pickBackend([b('down', 0), b('unknown', 0), b('up', 5)], none, 0), 2, 'up wins even with more connections');
  assert.equal(pickBackend([b('down', 0), b('unknown', 9)], none, 0), 1, 'unknown before down');
  assert.equal(pickBackend([b('up', 3), b('up', 1), b('up', 2)], none, 0), 1, 'fewest connections');
  // Ties rotate with the cursor.
  const ups = [b('up', 0), b('up', 0), b('up', 0)];
  assert.deepEqual([0, 1, 2, 3].map((c) => pickBackend(ups, none, c)), [0, 1, 2, 0]);
  // Exclusion: the next one, then down ones as a last resort, then nothing.
  assert.equal(pickBackend([b('up', 0), b('up', 0), b('down', 0)], new Set([0]), 0), 1);
  assert.equal(pickBackend([b('up', 0), b('up', 0), b('down', 0)], new Set([0, 1]), 0), 2);
  assert.equal(pickBackend([b('up', 0), b('up', 0), b('down', 0)], new Set([0, 1, 2]), 0), undefined);
  assert.equal(pickBackend([], none, 0), undefined);
});
