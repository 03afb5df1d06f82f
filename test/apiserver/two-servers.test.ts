// Two API servers in one process on one real etcd, sharing one data dir (so one CA and admin
// credentials): each serves on its own, a write through either reaches both servers' watches,
// and stopping one ends only its own watches — the other keeps streaming and serving.
// Shows that watch registries, caches and timers belong to a server instance, not the module.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../src/api/object.js';
import { ApiClient, type WatchEvent } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';
import { pollUntil } from '../../src/util/poll.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';

const CM = resource('', 'configmaps');
const NS = 'default';

/** A watch's events and how it ended, recorded as they arrive. */
class Recorder {
  readonly names: string[] = [];
  ended: { err?: Error } | undefined;
  // A client of its own, so that only the server can end the stream (closing the test
  // helper's client would cut it from this side).
  private readonly client: ApiClient;
  private readonly handle: { stop(): void };
  constructor(of: TestApiServer, resourceVersion: string) {
    this.client = new ApiClient(of.client.config);
    this.handle = this.client.watch(CM, NS, { resourceVersion }, (ev: WatchEvent) => {
      if (ev.type === 'ADDED') this.names.push(ev.object.metadata?.name ?? '');
    }, (err) => { this.ended = { err }; });
  }
  stop(): void {
    this.handle.stop();
    this.client.close();
  }
}

describe('two API servers in one process on one etcd', { skip: needs(deps.etcd), timeout: 120_000 }, () => {
  let root = '';
  let etcd: EtcdProcess | undefined;
  let a: TestApiServer | undefined;
  let b: TestApiServer | undefined;
  const watches: Recorder[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-two-'));
    etcd = await EtcdProcess.onFreePorts(join(root, 'etcd'));
    await etcd.start();
    const etcdSpec = { endpoints: [etcd.endpoint], prefix: `/two-${randomBytes(4).toString('hex')}` };
    const dataDir = join(root, 'data');
    // One after the other: the second finds the first's CA and serving certificate and reuses them.
    a = await startTestApiServer('127.0.0.1', { etcd: etcdSpec, dataDir });
    b = await startTestApiServer('127.0.0.1', { etcd: etcdSpec, dataDir });
  });

  after(async () => {
    for (const w of watches) w.stop();
    try {
      await a?.close();
      await b?.close();
    } finally {
      await etcd?.kill();
      if (root) await rm(root, { recursive: true, force: true });
    }
  });

  test('stopping one server ends its watches only; the other keeps streaming and serving', async () => {
    assert.ok(a && b);
    assert.notEqual(a.server.url, b.server.url);
    assert.equal(a.server.pki.caCertPem, b.server.pki.caCertPem, 'one CA for both');

    // Both serve, from one store: a write through A is visible through B.
    await a.client.create(CM, NS, { metadata: { name: 'before' } });
    const rv = (await b.client.list<KubeObject>(CM, NS)).resourceVersion;
    assert.ok((await b.client.list<KubeObject>(CM, NS)).items.some((o) => o.metadata?.name === 'before'));

    // A's admin credentials work on B: the same CA signed both servers' certificates.
    const aOnB = new ApiClient({ ...a.client.config, server: b.server.url });
    try {
      assert.equal((await aOnB.get<KubeObject>(CM, NS, 'before')).metadata?.name, 'before');
    } finally {
      aOnB.close();
    }

    const onA = new Recorder(a, rv);
    const onB = new Recorder(b, rv);
    watches.push(onA, onB);
    await a.client.create(CM, NS, { metadata: { name: 'via-a' } });
    await b.client.create(CM, NS, { metadata: { name: 'via-b' } });
    for (const [w, who] of [[onA, 'A'], [onB, 'B']] as const) {
      await pollUntil(`${who}'s watch to see both writes`, () => w.names.includes('via-a') && w.names.includes('via-b'), { timeoutMs: 15_000 });
    }

    const stopped = a;
    a = undefined;
    await stopped.close();
    const endedA = await pollUntil("A's watch to end", () => onA.ended, { timeoutMs: 10_000 });
    assert.equal(endedA.err, undefined, `A's watch ended cleanly: ${String(endedA.err)}`);

    // B was not touched by A's shutdown: its watch is open and streams B's new writes.
    await b.client.create(CM, NS, { metadata: { name: 'after' } });
    await pollUntil("B's watch to see the write after A stopped", () => onB.names.includes('after'), { timeoutMs: 15_000 });
    assert.equal(onB.ended, undefined, "B's watch is still open");
    assert.ok(!onA.names.includes('after'), 'the stopped server streamed nothing after it stopped');
    assert.equal((await b.client.get<KubeObject>(CM, NS, 'after')).metadata?.name, 'after');

    // A answers nothing any more; its client sees the refused connection as unavailability.
    const down = new ApiClient(stopped.client.config);
    try {
      await assert.rejects(down.get(CM, NS, 'after'), (e) => isTriremeError(e, 'ServiceUnavailable'));
    } finally {
      down.close();
    }
    assert.deepEqual(onB.names, ['via-a', 'via-b', 'after'], 'B saw every write once, in order');
  });
});
