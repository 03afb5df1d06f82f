import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { TriremeError } from '../../src/errors.js';
import { FakeClock } from '../../src/util/clock.js';
import {
  decide, DEFAULT_ELECTION_TIMINGS, defaultIdentity, LeaderElector, observe, releasedRecord, validateTimings, type LeaseAccess, type LeaseRecord, type StopReason,
} from '../../src/client/leader-election.js';
import { microTime } from '../../src/api/time.js';

const T0 = 1_700_000_000_000;
const rec = (holder: string, transitions = 0, duration = 8): LeaseRecord => ({ holderIdentity: holder, leaseDurationSeconds: duration, leaseTransitions: transitions, renewTime: microTime(T0) });

test('validateTimings: duration > renewDeadline > retryPeriod × 1.2, whole-second duration', () => {
  validateTimings({ leaseDurationSeconds: 8, renewDeadlineSeconds: 6, retryPeriodSeconds: 1 });
  assert.throws(() => validateTimings({ leaseDurationSeconds: 6, renewDeadlineSeconds: 6, retryPeriodSeconds: 1 }), /greater than renewDeadline/);
  assert.throws(() => validateTimings({ leaseDurationSeconds: 8, renewDeadlineSeconds: 1.2, retryPeriodSeconds: 1 }), /retryPeriodSeconds × 1.2/);
  assert.throws(() => validateTimings({ leaseDurationSeconds: 2.5, renewDeadlineSeconds: 2, retryPeriodSeconds: 1 }), /positive integer/);
  assert.throws(() => validateTimings({ leaseDurationSeconds: 8, renewDeadlineSeconds: 6, retryPeriodSeconds: 0 }), /positive/);
});

test('decide: acquires an absent lease with no transition', () => {
  const d = decide(undefined, 'a', T0, 8);
  assert.equal(d.kind, 'write');
  assert.ok(d.kind === 'write');
  assert.deepEqual(d.record, { holderIdentity: 'a', leaseDurationSeconds: 8, acquireTime: microTime(T0), renewTime: microTime(T0), leaseTransitions: 0 });
  assert.equal(d.transition, false);
});

test('decide: acquires a released (empty-holder) lease at once, counting a transition', () => {
  const obs = observe(undefined, releasedRecord(rec('b', 3), T0), '5', T0);
  const d = decide(obs, 'a', T0 + 1, 8);
  assert.ok(d.kind === 'write');
  assert.equal(d.record.holderIdentity, 'a');
  assert.equal(d.record.leaseTransitions, 4);
});

test('decide: renews its own lease keeping acquireTime and transitions', () => {
  const mine = { ...rec('a', 2), acquireTime: microTime(T0 - 60_000) };
  const obs = observe(undefined, mine, '7', T0);
  const d = decide(obs, 'a', T0 + 20_000, 8);
  assert.ok(d.kind === 'write');
  assert.equal(d.transition, false);
  assert.equal(d.record.leaseTransitions, 2);
  assert.equal(d.record.acquireTime, microTime(T0 - 60_000));
  assert.equal(d.record.renewTime, microTime(T0 + 20_000));
});

test('decide: does not steal an unexpired lease, measured from our own observation time', () => {
  // The record claims a renewal long ago by the holder's clock; we only trust when we saw it.
  const stale = { ...rec('b', 1), renewTime: microTime(T0 - 3_600_000) };
  const obs = observe(undefined, stale, '9', T0);
  const d = decide(obs, 'a', T0 + 7_999, 8);
  assert.deepEqual(d, { kind: 'held', holder: 'b', expiresAt: T0 + 8_000 });
});

test('decide: takes an expired lease with transitions + 1', () => {
  const obs = observe(undefined, rec('b', 1), '9', T0);
  const d = decide(obs, 'a', T0 + 8_000, 8);
  assert.ok(d.kind === 'write');
  assert.equal(d.transition, true);
  assert.equal(d.record.holderIdentity, 'a');
  assert.equal(d.record.leaseTransitions, 2);
  assert.equal(d.record.acquireTime, microTime(T0 + 8_000));
});

test('observe: the observation clock restarts only when the object changes', () => {
  const first = observe(undefined, rec('b'), '9', T0);
  assert.equal(observe(first, rec('b'), '9', T0 + 5_000).observedTime, T0);
  assert.equal(observe(first, rec('b'), '10', T0 + 5_000).observedTime, T0 + 5_000);
});

test('releasedRecord: empty holder, 1 s duration, transitions kept', () => {
  const r = releasedRecord(rec('a', 4), T0);
  assert.equal(r.holderIdentity, '');
  assert.equal(r.leaseDurationSeconds, 1);
  assert.equal(r.leaseTransitions, 4);
});

/** An in-memory Lease with the API's compare-and-swap on resourceVersion, and a switch to fail every call. */
class MemoryLease implements LeaseAccess {
  lease: Lease | undefined;
  private rv = 0;
  down = false;
  writes: LeaseRecord[] = [];

  async get(): Promise<Lease | undefined> {
    this.check();
    return this.lease && structuredClone(this.lease);
  }

  async create(lease: Lease): Promise<Lease> {
    this.check();
    if (this.lease) throw new TriremeError('AlreadyExists', 'exists');
    return this.store(lease);
  }

  async update(lease: Lease): Promise<Lease> {
    this.check();
    if (!this.lease) throw new TriremeError('NotFound', 'gone');
    if (lease.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) throw new TriremeError('Conflict', 'stale');
    return this.store(lease);
  }

  private check(): void {
    if (this.down) throw new TriremeError('ServiceUnavailable', 'down');
  }

  private store(lease: Lease): Lease {
    this.lease = structuredClone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } });
    const s = this.lease.spec ?? {};
    this.writes.push({ holderIdentity: s.holderIdentity ?? '', leaseDurationSeconds: s.leaseDurationSeconds ?? 0, leaseTransitions: s.leaseTransitions ?? 0 });
    return structuredClone(this.lease);
  }
}

function elector(id: string, lease: MemoryLease, clock: FakeClock, events: string[]): LeaderElector {
  return new LeaderElector({
    lease, namespace: 'kube-system', name: 'x', identity: id, clock, random: () => 0,
    leaseDurationSeconds: 8, renewDeadlineSeconds: 6, retryPeriodSeconds: 1,
    callbacks: {
      onStartedLeading: () => events.push(`${id} started`),
      onStoppedLeading: (r: StopReason) => { events.push(`${id} stopped ${r}`); },
      onNewLeader: (who) => events.push(`${id} sees ${who}`),
    },
  });
}

/** Advances the fake clock in small steps, letting the electors' promises settle in between. */
async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
}

test('elector: one leads, the other waits; release hands over at the next retry', async () => {
  const clock = new FakeClock(T0);
  const lease = new MemoryLease();
  const events: string[] = [];
  const a = elector('a', lease, clock, events);
  const b = elector('b', lease, clock, events);
  a.start();
  await run(clock, 100);
  b.start();
  await run(clock, 3_000);
  assert.equal(a.isLeader(), true);
  assert.equal(b.isLeader(), false);
  assert.deepEqual(a.currentTerm(), { identity: 'a', transitions: 0 });
  assert.equal(b.currentTerm(), undefined);
  assert.deepEqual(events, ['a sees a', 'a started', 'b sees a']);

  await a.stop();
  assert.equal(lease.lease?.spec?.holderIdentity, '');
  const stoppedAt = clock.now();
  while (!b.isLeader() && clock.now() - stoppedAt < 5_000) await run(clock, 100);
  assert.ok(clock.now() - stoppedAt <= 1_100, `took over after ${clock.now() - stoppedAt} ms`);
  assert.deepEqual(b.currentTerm(), { identity: 'b', transitions: 1 });
  assert.deepEqual(events.slice(3), ['a stopped stopped', 'b sees b', 'b started']);
  await b.stop();
});

test('elector: without a release, the other takes over only after the lease duration it observed', async () => {
  const clock = new FakeClock(T0);
  const lease = new MemoryLease();
  const events: string[] = [];
  const a = elector('a', lease, clock, events);
  const b = elector('b', lease, clock, events);
  a.start();
  await run(clock, 100);
  b.start();
  await run(clock, 2_000);
  await a.stop({ release: false });
  const lastRenew = lease.writes.length;
  const killedAt = clock.now();
  await run(clock, 7_000);
  assert.equal(b.isLeader(), false, 'must not steal before the lease duration');
  await run(clock, 2_500);
  assert.equal(b.isLeader(), true);
  // The first write after the crash is b's takeover (renewals may follow).
  assert.deepEqual(lease.writes[lastRenew], { holderIdentity: 'b', leaseDurationSeconds: 8, leaseTransitions: 1 });
  assert.ok(clock.now() - killedAt >= 8_000);
  await b.stop();
});

test('elector: a leader that cannot renew for renewDeadline stops leading, then campaigns again', async () => {
  const clock = new FakeClock(T0);
  const lease = new MemoryLease();
  const events: string[] = [];
  const a = elector('a', lease, clock, events);
  a.start();
  await run(clock, 1_000);
  assert.equal(a.isLeader(), true);
  lease.down = true;
  const downAt = clock.now();
  while (a.isLeader()) await run(clock, 100);
  const lostAfter = clock.now() - downAt;
  assert.ok(lostAfter <= 6_000 && lostAfter >= 5_000, `lost after ${lostAfter} ms`);
  assert.deepEqual(events, ['a sees a', 'a started', 'a stopped lost']);
  lease.down = false;
  await run(clock, 1_500);
  assert.equal(a.isLeader(), true, 'the record is still ours, so it is renewed again');
  assert.deepEqual(events.slice(3), ['a started']);
  await a.stop();
});

test('elector: a renewal lost to a concurrent writer (Conflict) is not counted as a renewal', async () => {
  const clock = new FakeClock(T0);
  const lease = new MemoryLease();
  const events: string[] = [];
  const a = elector('a', lease, clock, events);
  a.start();
  await run(clock, 500);
  // Someone else took the lease (e.g. after a long pause of ours): we must notice and stop.
  const cur = lease.lease as Lease;
  await lease.update({ ...cur, spec: { ...cur.spec, holderIdentity: 'z', leaseTransitions: 1 } });
  while (a.isLeader() && clock.now() - T0 < 20_000) await run(clock, 100);
  assert.equal(a.isLeader(), false);
  assert.ok(events.includes('a sees z'));
  assert.ok(events.includes('a stopped lost'));
  await a.stop();
});

test('default timings: valid, and a crashed leader is replaced within 2.7 s at any phase and worst-case jitter', async () => {
  validateTimings(DEFAULT_ELECTION_TIMINGS);
  assert.deepEqual(DEFAULT_ELECTION_TIMINGS, { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.75, retryPeriodSeconds: 0.25 });
  // Crash the leader at several offsets within its renewal period; the candidate's jitter is
  // the largest possible (random → 0.999).
  for (const offset of [0, 60, 130, 190, 240]) {
    const clock = new FakeClock(T0);
    const lease = new MemoryLease();
    const mk = (id: string, random: number) => new LeaderElector({
      lease, namespace: 'kube-system', name: 'x', identity: id, clock, random: () => random,
      callbacks: { onStartedLeading: () => undefined, onStoppedLeading: () => undefined },
    });
    const a = mk('a', 0);
    const b = mk('b', 0.999);
    a.start();
    await runFine(clock, 50);
    b.start();
    await runFine(clock, 1_000 + offset);
    assert.equal(a.isLeader(), true);
    await a.stop({ release: false });
    const killedAt = clock.now();
    while (!b.isLeader() && clock.now() - killedAt < 5_000) await runFine(clock, 10);
    const took = clock.now() - killedAt;
    assert.ok(took >= 1_700 && took <= 2_700, `offset ${offset}: took over after ${took} ms`);
    await b.stop();
  }
});

/** Like run(), in 10 ms steps, for timings of a fraction of a second. */
async function runFine(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    clock.advance(10);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  }
}

test('defaultIdentity: <node>_<random>, distinct per call', () => {
  const a = defaultIdentity('node-1');
  assert.match(a, /^node-1_[0-9a-f]{12}$/);
  assert.notEqual(defaultIdentity('node-1'), a);
});
