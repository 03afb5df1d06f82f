// The real API server (in process, over HTTPS on 127.0.7.4) on a real 3-member etcd cluster
// (127.0.7.1-3) that loses its majority: the two followers are killed, the leader survives.
// Writes then fail as 503 with a Status saying the store has no quorum (or, for a write that
// reached the leader before it noticed, 504 saying its outcome is unknown), a GET fails as 503
// no quorum, /readyz?verbose names the cause. One member started again gives the majority back:
// writes succeed, the watch opened before the loss delivers them without ending, /readyz is
// green, all without restarting the server. Nothing reported "not written" exists afterwards.
// Every etcd member is killed at the end, also on failure. Under CI=true a missing etcd fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { WatchEvent } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';
import { pollUntil } from '../../src/util/poll.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { deps, needs } from '../helpers/require-dep.js';
import { getText } from '../helpers/https-text.js';

type CM = ConfigMap & { [k: string]: unknown };
const configmaps = resource('', 'configmaps');
const cm = (name: string): CM => ({ metadata: { name }, data: { name } });


interface Answer { http: number; reason: string; message: string }
function answerOf(err: unknown): Answer {
  assert.ok(isTriremeError(err), String(err));
  const status = err.context.status as { code?: number; reason?: string; message?: string } | undefined;
  return { http: Number(err.context.httpCode), reason: status?.reason ?? '', message: status?.message ?? err.message };
}

test('quorum loss: writes 503 "no quorum" in bounded time, readyz false, service resumes by itself', { skip: needs(deps.etcd), timeout: 180_000 }, async (t) => {
  const cluster = await EtcdCluster.start({ hosts: ['127.0.7.1', '127.0.7.2', '127.0.7.3'], name: 'trireme-etcd-quorum' });
  let api: TestApiServer | undefined;
  let watch: { stop(): void } | undefined;
  try {
    api = await startTestApiServer('127.0.7.4', { etcd: { endpoints: cluster.endpoints, prefix: '/quorum' } });
    const { client: c, server } = api;
    const readyz = () => getText(`${server.url}/readyz?verbose`, server.pki.caCertPem);
    const before = await c.create<CM>(configmaps, 'default', cm('before'));
    assert.equal((await readyz()).status, 200);

    const events: WatchEvent[] = [];
    let watchEnded: Error | 'closed' | undefined;
    watch = c.watch(configmaps, 'default', { resourceVersion: before.metadata?.resourceVersion ?? '0' },
      (ev) => events.push(ev), (err) => (watchEnded = err ?? 'closed'));

    const leader = await cluster.waitForLeader();
    const dead = [0, 1, 2].filter((i) => i !== leader);
    for (const i of dead) await cluster.kill(i);

    // Writes until two in a row say "no quorum" (the first may reach the leader before it
    // steps down: its outcome is unknown then, and the answer says so).
    const notWritten: string[] = [];
    const unknown: string[] = [];
    let streak = 0;
    for (let i = 0; i < 8 && streak < 2; i++) {
      const name = `during-${i}`;
      const started = Date.now();
      try {
        await c.create<CM>(configmaps, 'default', cm(name));
        assert.fail(`${name} was acknowledged without a quorum`);
      } catch (err) {
        const took = Date.now() - started;
        const a = answerOf(err);
        t.diagnostic(`${name}: ${a.http} ${a.reason} after ${took} ms: ${a.message}`);
        if (a.http === 503) {
          assert.equal(a.reason, 'ServiceUnavailable');
          assert.match(a.message, /^the store has no quorum: the creation of .* was not written/);
          // The store's budget is 10 s; generous slack for a loaded machine.
          assert.ok(took < 16_000, `no-quorum answer took ${took} ms`);
          notWritten.push(name);
          streak++;
        } else {
          assert.equal(a.http, 504, a.message);
          assert.equal(a.reason, 'Timeout');
          assert.match(a.message, /outcome is unknown: it may have been written/);
          unknown.push(name);
          streak = 0;
        }
      }
    }
    assert.equal(streak, 2, 'writes never settled on "no quorum"');

    // A GET is a quorum read: it fails the same way rather than answer from a stale cache.
    const getErr = await c.get<CM>(configmaps, 'default', 'before').then(() => undefined, (e: unknown) => e);
    assert.ok(getErr, 'a GET was answered without a quorum');
    const g = answerOf(getErr);
    assert.equal(g.http, 503, g.message);
    assert.match(g.message, /^the store has no quorum: get .* got no answer/);

    const red = await pollUntil('readyz to fail', async () => {
      const r = await readyz();
      return r.status !== 200 ? r : undefined;
    }, { timeoutMs: 20_000, everyMs: 200 });
    t.diagnostic(red.text.split('\n').find((l) => l.includes('store')) ?? red.text);
    assert.match(red.text, /^\[-\]store failed: etcd: read failed: the store has no quorum/m);

    // The majority returns; nothing is restarted on the API server's side.
    const back = Date.now();
    await cluster.start(dead[0]!, { waitHealthy: false });
    const after = await pollUntil('a write to succeed again', async () => {
      try {
        return await c.create<CM>(configmaps, 'default', cm('after'));
      } catch (err) {
        if (isTriremeError(err, 'AlreadyExists')) return c.get<CM>(configmaps, 'default', 'after');
        throw err;
      }
    }, { timeoutMs: 60_000, everyMs: 250 });
    t.diagnostic(`first write acknowledged ${Date.now() - back} ms after the member was started again`);
    await pollUntil('the watch opened before the loss to deliver the write made after it', () =>
      events.some((e) => e.type === 'ADDED' && (e.object as CM).metadata?.name === 'after'), { timeoutMs: 40_000, everyMs: 100 });
    assert.equal(watchEnded, undefined, `the watch ended: ${String(watchEnded)}`);
    await pollUntil('readyz to pass again', async () => (await readyz()).status === 200, { timeoutMs: 30_000, everyMs: 200 });
    assert.equal((await c.get<CM>(configmaps, 'default', 'before')).data?.name, 'before');
    assert.equal(after.data?.name, 'after');

    // Nothing answered "not written" was written; an unknown outcome may have gone either way.
    for (const name of notWritten) {
      await assert.rejects(c.get(configmaps, 'default', name), (e: unknown) => isTriremeError(e, 'NotFound'), `${name} exists`);
    }
    for (const name of unknown) {
      const exists = await c.get(configmaps, 'default', name).then(() => true, (e: unknown) => (isTriremeError(e, 'NotFound') ? false : Promise.reject(e)));
      t.diagnostic(`${name} (outcome reported unknown) ${exists ? 'was committed after all' : 'was not committed'}`);
    }
  } finally {
    watch?.stop();
    await api?.close();
    await cluster.cleanup();
  }
});
