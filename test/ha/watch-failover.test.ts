// A watch through a server that vanishes without a FIN (SIGSTOP: its sockets stay open, nothing
// is answered) ends within seconds — the heartbeat bookmarks stop, the balancer's probes time out
// — and the informer resumes it on another server from its last resourceVersion: it sees a
// change written through that other server once, and it never lists again (counted).
// Three real `trireme apiserver` processes on one etcd, on 127.0.5.1-3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { ApiClient, type ListOptions, type ListResult, type WatchEvent, type WatchOptions } from '../../src/client/api-client.js';
import { ServerBalancer } from '../../src/client/balancer.js';
import { Informer } from '../../src/client/informer.js';
import { resource, type ResourceInfo } from '../../src/client/resources.js';
import { pollUntil } from '../../src/util/poll.js';
import { deps, needs } from '../helpers/require-dep.js';
import { startThreeApiServers, type ThreeServers } from './three-apiservers.js';

const CM = resource('', 'configmaps');

/** A real client that counts the lists and watches it was asked for. */
class CountingClient extends ApiClient {
  lists = 0;
  watches = 0;
  watchEnds: { at: number; err?: Error }[] = [];

  override list<T extends KubeObject>(res: ResourceInfo, namespace?: string, opts?: ListOptions): Promise<ListResult<T>> {
    this.lists++;
    return super.list<T>(res, namespace, opts);
  }

  override watch(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): { stop(): void } {
    this.watches++;
    return super.watch(res, namespace, opts, onEvent, (err) => {
      this.watchEnds.push({ at: Date.now(), ...(err ? { err } : {}) });
      onEnd(err);
    });
  }
}

describe('a watch through a paused server', { skip: needs(deps.etcd), timeout: 180_000 }, () => {
  let ha: ThreeServers | undefined;
  const closers: (() => void)[] = [];

  before(async () => {
    ha = await startThreeApiServers(['127.0.5.1', '127.0.5.2', '127.0.5.3'], 'watch');
  });
  after(async () => {
    for (const c of closers) c();
    await ha?.close();
  });

  it('ends within seconds and resumes on another server from its last resourceVersion, without a relist', async (t) => {
    const [a, b] = ha!.servers;
    const balancer = await ServerBalancer.open({ seed: a!.url, identity: a!.adminConfig });
    balancer.start();
    closers.push(() => balancer.stop());
    await pollUntil('the balancer to learn the three servers', () => balancer.servers().length === 3, { timeoutMs: 20_000 });
    const client = new CountingClient({ ...a!.adminConfig, balancer });
    closers.push(() => client.close());

    // Written after every server started, so each one's cache history covers what follows.
    await a!.admin.create(CM, 'default', { metadata: { name: 'wf-first' } });
    const inf = new Informer<KubeObject>(client, CM, { namespace: 'default' });
    const seen: string[] = [];
    inf.on({
      add: (o) => seen.push(`add ${o.metadata?.name}`),
      update: (o, n) => seen.push(`update ${n.metadata?.name}`),
      delete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    closers.push(() => inf.stop());
    await inf.start();
    // The watch is live on A: a change through A arrives.
    await a!.admin.create(CM, 'default', { metadata: { name: 'wf-second' } });
    await pollUntil('the informer to see wf-second', () => inf.get('default', 'wf-second'), { timeoutMs: 20_000 });
    assert.equal(balancer.current(), a!.url);
    assert.equal(client.lists, 1);
    const watchesBefore = client.watches;

    const pausedAt = Date.now();
    a!.proc.child.kill('SIGSTOP');
    closers.unshift(() => { try { a!.proc.child.kill('SIGCONT'); } catch { /* already gone */ } });

    await pollUntil('the watch on the paused server to end', () => client.watchEnds.find((e) => e.at >= pausedAt), { timeoutMs: 30_000, everyMs: 100 });
    const endedAfterMs = client.watchEnds.find((e) => e.at >= pausedAt)!.at - pausedAt;
    t.diagnostic(`the watch ended ${endedAfterMs} ms after SIGSTOP`);
    assert.ok(endedAfterMs < 20_000, `the watch ended ${endedAfterMs} ms after the pause (TCP alone would take minutes)`);

    await b!.admin.create(CM, 'default', { metadata: { name: 'wf-third' } });
    await pollUntil('the informer to see wf-third through another server', () => inf.get('default', 'wf-third'), { timeoutMs: 30_000, everyMs: 100 });
    assert.notEqual(balancer.current(), a!.url);
    assert.ok(client.watches > watchesBefore, 'the watch was opened again');
    assert.equal(client.lists, 1, 'resumed from the last resourceVersion: no relist');
    assert.deepEqual(seen.filter((s) => s.includes('wf-')), ['add wf-first', 'add wf-second', 'add wf-third'], 'each change seen once, in order');
  });
});
