// provablyNotApplied (src/storage/etcd.ts): which failed etcd calls certainly proposed nothing,
// so that a write may be retried. Pure; the errors are the etcd3 client's own classes with the
// messages etcd 3.4 and grpc-js give (seen in test/apiserver/etcd-quorum.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokenCircuitError } from 'cockatiel';
import { GRPCDeadlineExceededError, GRPCUnavailableError, GRPCUnknownError } from 'etcd3';
import { provablyNotApplied } from '../../src/storage/etcd.js';
import { AbandonedCallError } from '../../src/storage/etcd-host-gate.js';

test('refused before any proposal, or never sent: not applied', () => {
  assert.equal(provablyNotApplied(new BrokenCircuitError()), true);
  assert.equal(provablyNotApplied(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader')), true);
  assert.equal(provablyNotApplied(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: too many requests')), true);
  assert.equal(provablyNotApplied(new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.7.2:32819.')), true);
  assert.equal(provablyNotApplied(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded after 4.001s,name resolution: 0.001s,Waiting for LB pick')), true);
});

test('sent, then timed out or dropped: the outcome is unknown', () => {
  assert.equal(provablyNotApplied(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: request timed out')), false);
  assert.equal(provablyNotApplied(new GRPCUnknownError('2 UNKNOWN: context deadline exceeded')), false);
  assert.equal(provablyNotApplied(new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped')), false);
  assert.equal(provablyNotApplied(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded after 4.000s,LB pick: 0.001s,remote_addr=127.0.7.1:34251')), false);
  // Abandoned after its member fell silent: sent, whatever the probe said.
  assert.equal(provablyNotApplied(new AbandonedCallError('etcd member http://127.0.7.1:1 stopped answering; call abandoned (probe: 14 UNAVAILABLE: etcdserver: no leader)')), false);
});
