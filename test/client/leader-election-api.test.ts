// Two electors against a real in-process API server with short timings: exactly one leads, a
// release hands over within about one retry period, a crash within about the lease duration,
// and at no sampled moment do two lead or does a leader differ from the Lease's holder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { startTestApiServer } from '../helpers/api-server.js';
import { apiLeaseAccess, LeaderElector } from '../../src/client/leader-election.js';
import { resource } from '../../src/client/resources.js';
import type { ApiClient } from '../../src/client/api-client.js';

const TIMINGS = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.25 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function candidate(client: ApiClient, id: string, log: string[]): LeaderElector {
  return new LeaderElector({
    lease: apiLeaseAccess(client, 'kube-system', 'kube-scheduler'), namespace: 'kube-system', name: 'kube-scheduler', identity: id, ...TIMINGS,
    callbacks: { onStartedLeading: () => log.push(`${id} started`), onStoppedLeading: (r) => { log.push(`${id} stopped ${r}`); } },
  });
}

/** Samples leadership and the Lease until stopped; records any moment that breaks the invariant. */
function watchdog(client: ApiClient, electors: LeaderElector[]) {
  const violations: string[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const before = electors.filter((e) => e.isLeader()).map((e) => e.identity);
      const lease = await client.get<Lease & { [k: string]: unknown }>(resource('coordination.k8s.io', 'leases'), 'kube-system', 'kube-scheduler').catch(() => undefined);
      const after = electors.filter((e) => e.isLeader()).map((e) => e.identity);
      if (before.length > 1 || after.length > 1) violations.push(`two leaders: ${before.join(',')} / ${after.join(',')}`);
      // Leading both before and after the read: the Lease must name us.
      const steady = before.filter((id) => after.includes(id));
      if (lease && steady.length === 1 && lease.spec?.holderIdentity !== steady[0]) violations.push(`${steady[0]} leads but the Lease names ${lease.spec?.holderIdentity}`);
      await sleep(20);
    }
  })();
  return { violations, stop: async () => { stop = true; await done; } };
}

async function until(cond: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
  return Date.now() - t0;
}

test('leader election against a real API server: one leader, release and crash hand-overs', { timeout: 30_000 }, async () => {
  const api = await startTestApiServer();
  const log: string[] = [];
  const a = candidate(api.client, 'a', log);
  const b = candidate(api.client, 'b', log);
  const dog = watchdog(api.client, [a, b]);
  try {
    a.start();
    b.start();
    await until(() => a.isLeader() || b.isLeader(), 3_000);
    await sleep(1_000);
    const [leader, other] = a.isLeader() ? [a, b] : [b, a];
    assert.equal(other.isLeader(), false);
    assert.deepEqual(log, [`${leader.identity} started`]);

    // Graceful: release hands over at the other's next retry.
    await leader.stop({ release: true });
    const released = await until(() => other.isLeader(), 3_000);
    assert.ok(released < 800, `release hand-over took ${released} ms`);
    assert.equal(other.currentTerm()?.transitions, 1);

    // Crash: a third candidate waits out the lease duration since it last saw a renewal.
    const c = candidate(api.client, 'c', log);
    const dog2 = watchdog(api.client, [other, c]);
    c.start();
    await sleep(1_000);
    assert.equal(c.isLeader(), false);
    await other.stop({ release: false });
    const crashed = await until(() => c.isLeader(), 5_000);
    assert.ok(crashed >= 1_000 && crashed < 2_800, `crash hand-over took ${crashed} ms`);
    assert.equal(c.currentTerm()?.transitions, 2);
    process.stdout.write(`# takeover after release: ${released} ms; after crash: ${crashed} ms (lease ${TIMINGS.leaseDurationSeconds} s, retry ${TIMINGS.retryPeriodSeconds} s)\n`);
    await c.stop();
    await dog2.stop();
    assert.deepEqual(dog2.violations, []);
  } finally {
    await dog.stop();
    await a.stop();
    await b.stop();
    await api.close();
  }
  assert.deepEqual(dog.violations, []);
});
