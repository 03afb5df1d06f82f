// ReplicaSet reconcile against recorded actions (sample-controller style): a fake client
// records writes, fake informers hold exactly what the test puts in them — so the cache can
// be made to lag behind the controller's own writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import type { ResourceInfo } from '../../src/api/resources.js';
import type { ApiClient } from '../../src/client/api-client.js';
import type { EventRecorder } from '../../src/client/events.js';
import type { InformerHandler } from '../../src/client/informer.js';
import { objectKey } from '../../src/client/keys.js';
import type { SharedInformers } from '../../src/controllers/common/informers.js';
import { ReplicaSetController } from '../../src/controllers/replicaset.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { pod, type PodLike, type RsLike } from './fixtures.js';

class FakeInformer {
  readonly items = new Map<string, KubeObject>();
  readonly handlers: InformerHandler<KubeObject>[] = [];
  on(h: InformerHandler<KubeObject>): void {
    this.handlers.push(h);
  }
  get(ns: string | undefined, name: string): KubeObject | undefined {
    return this.items.get(ns ? `${ns}/${name}` : name);
  }
  list(ns?: string): KubeObject[] {
    return [...this.items.values()].filter((o) => ns === undefined || o.metadata?.namespace === ns);
  }
  /** Delivers an object to the cache, as a watch event would. */
  put(o: KubeObject): void {
    const old = this.items.get(objectKey(o));
    this.items.set(objectKey(o), o);
    for (const h of this.handlers) {
      if (old) h.update?.(old, o);
      else h.add?.(o);
    }
  }
  remove(o: KubeObject): void {
    this.items.delete(objectKey(o));
    for (const h of this.handlers) h.delete?.(o);
  }
}

function harness() {
  const infs = new Map<string, FakeInformer>();
  const informers = {
    for: (res: ResourceInfo) => {
      let i = infs.get(res.resource);
      if (!i) infs.set(res.resource, (i = new FakeInformer()));
      return i;
    },
  } as unknown as SharedInformers;
  const created: PodLike[] = [];
  const deleted: string[] = [];
  const statuses: unknown[] = [];
  let n = 0;
  const client = {
    create: async (_res: ResourceInfo, _ns: string, obj: PodLike) => {
      const out = { ...obj, metadata: { ...obj.metadata, name: `${obj.metadata?.generateName ?? ''}${n++}`, uid: `u${n}` } };
      created.push(out);
      return out;
    },
    delete: async (_res: ResourceInfo, _ns: string, name: string) => {
      deleted.push(name);
      return {};
    },
    patch: async (_res: ResourceInfo, _ns: string, _name: string, _t: string, body: unknown) => {
      statuses.push(body);
      return {};
    },
    get: async () => rs,
    update: async (_res: ResourceInfo, _ns: string, obj: KubeObject) => obj,
  } as unknown as ApiClient;
  const recorder = { event: () => undefined } as unknown as EventRecorder;
  const clock = new FakeClock();
  const rs: RsLike = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 1 },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  };
  const c = new ReplicaSetController({ client, informers, clock, logger: silentLogger, recorder });
  const rsInf = infs.get('replicasets')!;
  const podInf = infs.get('pods')!;
  rsInf.items.set('default/web', rs);
  return { c, rs, rsInf, podInf, created, deleted, statuses, clock };
}

describe('ReplicaSetController.reconcile', () => {
  it('creates the missing pods once, even when the cache has not seen them yet', async () => {
    const h = harness();
    await h.c.reconcile('default/web');
    assert.equal(h.created.length, 3);
    // The informer is slow: the pods are not in the cache. Syncing again must not create more.
    await h.c.reconcile('default/web');
    await h.c.reconcile('default/web');
    assert.equal(h.created.length, 3);
    for (const p of h.created) {
      assert.equal(p.metadata?.generateName, 'web-');
      assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }]);
    }
    // Once the cache catches up, the ReplicaSet is in sync and nothing more happens.
    for (const p of h.created) h.podInf.put(p);
    await h.c.reconcile('default/web');
    assert.equal(h.created.length, 3);
  });

  it('re-creates after the expectations time out if a creation was never observed', async () => {
    const h = harness();
    await h.c.reconcile('default/web');
    h.podInf.put(h.created[0]!);
    h.podInf.put(h.created[1]!);
    await h.c.reconcile('default/web');
    assert.equal(h.created.length, 3);
    h.clock.advance(5 * 60_000 + 1);
    await h.c.reconcile('default/web');
    assert.equal(h.created.length, 4);
  });

  it('deletes the surplus once, lowest-ranked first, and waits for the deletions to be observed', async () => {
    const h = harness();
    const owner = 'rs-uid';
    const ready = ['a', 'b', 'c'].map((name) => pod({ name, node: 'n', ready: true, labels: { app: 'web' }, owner }));
    const pending = pod({ name: 'p', labels: { app: 'web' }, owner });
    for (const p of [...ready, pending]) h.podInf.put(p);
    await h.c.reconcile('default/web');
    assert.deepEqual(h.deleted, ['p']);
    await h.c.reconcile('default/web');
    assert.deepEqual(h.deleted, ['p']);
    h.podInf.remove(pending);
    await h.c.reconcile('default/web');
    assert.deepEqual(h.deleted, ['p']);
    assert.equal(h.created.length, 0);
  });

  it('writes replicas and readiness into the status', async () => {
    const h = harness();
    for (const name of ['a', 'b', 'c']) h.podInf.put(pod({ name, ready: name !== 'c', labels: { app: 'web' }, owner: 'rs-uid' }));
    await h.c.reconcile('default/web');
    assert.deepEqual(h.statuses.at(-1), { status: { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 } });
  });
});
