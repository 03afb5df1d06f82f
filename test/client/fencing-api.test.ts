// Fencing end to end against a real in-process API server: two electors with their own clients
// fenced from currentTerm(); once B has taken the Lease over from a crashed A, A's writes with
// its old fence are refused (409, nothing stored) while B's go through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startTestApiServer } from '../helpers/api-server.js';
import { apiLeaseAccess, LeaderElector } from '../../src/client/leader-election.js';
import { ApiClient } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { TriremeError } from '../../src/errors.js';
import type { Fence } from '../../src/api/fence.js';

const TIMINGS = { leaseDurationSeconds: 1, renewDeadlineSeconds: 0.6, retryPeriodSeconds: 0.2 };
const LEASE = { namespace: 'kube-system', name: 'fenced-component' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type CM = ConfigMap & { [k: string]: unknown };
const configmaps = resource('', 'configmaps');

function candidate(leaseClient: ApiClient, worker: ApiClient, id: string): LeaderElector {
  const e: LeaderElector = new LeaderElector({
    lease: apiLeaseAccess(leaseClient, LEASE.namespace, LEASE.name), ...LEASE, identity: id, ...TIMINGS,
    callbacks: {
      onStartedLeading: () => { const t = e.currentTerm(); worker.setFence(t && { lease: LEASE, ...t }); },
      onStoppedLeading: () => { worker.setFence(undefined); },
    },
  });
  return e;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a deposed leader cannot write with its old fence; the new leader can', async () => {
  const api = await startTestApiServer();
  const clients = [0, 1, 2, 3].map(() => new ApiClient(api.client.config));
  const [leaseA, workA, leaseB, workB] = clients as [ApiClient, ApiClient, ApiClient, ApiClient];
  const a = candidate(leaseA, workA, 'a');
  const b = candidate(leaseB, workB, 'b');
  try {
    a.start();
    await until('a to lead', () => a.isLeader());
    const oldTerm = a.currentTerm()!;
    const oldFence: Fence = { lease: LEASE, ...oldTerm };
    // While A leads, its fenced writes go through.
    await workA.create<CM>(configmaps, 'default', { metadata: { name: 'by-a' }, data: { k: 'v' } });

    b.start();
    await a.stop({ release: false }); // a crash: the Lease still names A until B takes it over
    await until('b to lead', () => b.isLeader());
    assert.deepEqual(b.currentTerm(), { identity: 'b', transitions: oldTerm.transitions + 1 });

    // A has not noticed (its fence is still the old term): every mutating verb is refused.
    workA.setFence(oldFence);
    const fenced = (err: unknown) => {
      assert.ok(err instanceof TriremeError);
      assert.equal(err.code, 'Conflict');
      assert.equal(err.message, `fenced: lease kube-system/fenced-component is held by "b" (transitions ${oldTerm.transitions + 1}), not "a" (transitions ${oldTerm.transitions})`);
      return true;
    };
    await assert.rejects(workA.create<CM>(configmaps, 'default', { metadata: { name: 'stale' }, data: { k: 'v' } }), fenced);
    await assert.rejects(workA.delete(configmaps, 'default', 'by-a'), fenced);
    await assert.rejects(workA.patch(configmaps, 'default', 'by-a', 'merge', { data: { k: 'changed' } }), fenced);
    await assert.rejects(api.client.get<CM>(configmaps, 'default', 'stale'), (err: unknown) => err instanceof TriremeError && err.code === 'NotFound');
    assert.deepEqual((await api.client.get<CM>(configmaps, 'default', 'by-a')).data, { k: 'v' });
    // Reads are never fenced.
    assert.equal((await workA.get<CM>(configmaps, 'default', 'by-a')).metadata?.name, 'by-a');

    // B's fenced write succeeds; an unfenced client is unaffected.
    await workB.create<CM>(configmaps, 'default', { metadata: { name: 'by-b' }, data: { k: 'v' } });
    assert.equal((await api.client.get<CM>(configmaps, 'default', 'by-b')).metadata?.name, 'by-b');
    await api.client.create<CM>(configmaps, 'default', { metadata: { name: 'unfenced' } });
  } finally {
    await b.stop();
    await a.stop();
    for (const c of clients) c.close();
    await api.close();
  }
});

test('a malformed fence is 400 and a fence naming a missing Lease is 409', async () => {
  const api = await startTestApiServer();
  const raw = new ApiClient(api.client.config);
  try {
    raw.setFence({ lease: { namespace: 'kube-system', name: 'nobody' }, identity: 'a', transitions: 0 });
    await assert.rejects(raw.create<CM>(configmaps, 'default', { metadata: { name: 'y' } }), (err: unknown) => err instanceof TriremeError && err.code === 'Conflict' && /does not exist/.test(err.message));
    // A non-integer term formats to a token the server cannot parse.
    raw.setFence({ lease: { namespace: 'kube-system', name: 'nobody' }, identity: 'a', transitions: 1.5 });
    await assert.rejects(raw.create<CM>(configmaps, 'default', { metadata: { name: 'y' } }), (err: unknown) => err instanceof TriremeError && err.code === 'BadRequest');
    await assert.rejects(api.client.get<CM>(configmaps, 'default', 'y'), (err: unknown) => err instanceof TriremeError && err.code === 'NotFound');
  } finally {
    raw.close();
    await api.close();
  }
});
