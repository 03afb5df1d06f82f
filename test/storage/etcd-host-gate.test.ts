// createHostGate (src/storage/etcd-host-gate.ts) with a fake clock and fake probes: a failure
// takes the member out until a probe succeeds; a silent call starts probing, and an on-time
// failed probe takes the member out and abandons that call; a late one (this process was busy)
// does neither.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBrokenCircuitError } from 'cockatiel';
import { GRPCDeadlineExceededError, GRPCUnavailableError, isRecoverableError } from 'etcd3';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { AbandonedCallError, createHostGate } from '../../src/storage/etcd-host-gate.js';

const tick = () => new Promise((r) => setImmediate(r));

function gateWith(clock: FakeClock, probe: () => Promise<void>) {
  return createHostGate({ host: 'm', clock, logger: silentLogger, counts: isRecoverableError, probe, probeEveryMs: 250, suspectAfterMs: 1_500, probeDeadlineMs: 1_000 });
}

test('a failed call takes the member out until a probe succeeds', async () => {
  const clock = new FakeClock(0);
  let healthy = false;
  const gate = gateWith(clock, async () => {
    if (!healthy) throw new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader');
  });
  await assert.rejects(gate.policy.execute(() => Promise.reject(new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped'))));
  await assert.rejects(gate.policy.execute(() => 'never called'), (e: unknown) => isBrokenCircuitError(e));
  clock.advance(250);
  await tick();
  assert.match(gate.outBecause() ?? '', /no leader/);
  healthy = true;
  clock.advance(250);
  await tick();
  assert.equal(await gate.policy.execute(() => 'ok'), 'ok');
  assert.equal(gate.outBecause(), undefined);
  gate.close();
});

test('a silent call: on-time probe failure abandons it; a late one does not', async () => {
  const clock = new FakeClock(0);
  const probes: ((err: Error) => void)[] = [];
  const gate = gateWith(clock, () => new Promise<void>((_, reject) => probes.push(reject)));
  const deadline = () => new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded');
  let settled = 'pending' as unknown;
  const call = gate.policy.execute(() => new Promise<never>(() => undefined)).then((v) => (settled = v), (e: unknown) => (settled = e));
  clock.advance(1_500); // silent: probing starts
  clock.advance(250); // the first probe
  assert.equal(probes.length, 1);
  clock.advance(3_000); // ... and fails late: this process was busy
  probes[0]!(deadline());
  await tick();
  await tick();
  assert.equal(settled, 'pending');
  assert.equal(gate.outBecause(), undefined, 'a late probe failure took the member out');
  clock.advance(250); // the second probe fails on time: out, and the call is abandoned
  assert.equal(probes.length, 2);
  clock.advance(1_000);
  probes[1]!(deadline());
  await call;
  assert.ok((settled as unknown as object) instanceof AbandonedCallError, String(settled));
  assert.match(gate.outBecause() ?? '', /DEADLINE/);
  await assert.rejects(gate.policy.execute(() => 'never called'), (e: unknown) => isBrokenCircuitError(e));
  gate.close();
});

test('a function that throws at once (etcd3 markFailed) leaves nothing in flight for a later abandonment', async () => {
  const clock = new FakeClock(0);
  const probes: ((err: Error) => void)[] = [];
  const gate = gateWith(clock, () => new Promise<void>((_, reject) => probes.push(reject)));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    // What markFailed does with an error the gate does not count: a function that throws at once.
    await gate.policy.execute(() => { throw new Error('stream ended'); }).catch(() => undefined);
    clock.advance(1_500); // a call still counted as in flight would look silent now…
    clock.advance(250); // … and be probed,
    for (const p of probes) p(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader')); // … and abandoned.
    await tick();
    await tick();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, [], 'an abandonment rejected a promise nobody listened to');
    assert.equal(probes.length, 0, 'a call that had ended was taken for a silent one');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    gate.close();
  }
});
