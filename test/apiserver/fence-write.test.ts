// Fencing is atomic with the write (src/apiserver/fence-check.ts + registry.ts + the store's
// write guard): a takeover that lands exactly between the fence check and the store write is
// caught (409 fenced, nothing written); a renewal by the same holder in that window only makes
// the registry re-check and retry. Deterministic: a store wrapper runs the Lease write right
// before the first guarded write reaches the store. Runs against SQLite and, when present, etcd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../src/api/object.js';
import { findResource } from '../../src/api/resources.js';
import { formatFence, isFencedError } from '../../src/api/fence.js';
import { resolveFence, requireFence } from '../../src/apiserver/fence-check.js';
import { Registry } from '../../src/apiserver/registry.js';
import { microTime } from '../../src/api/time.js';
import { isTriremeError } from '../../src/errors.js';
import { openStore } from '../../src/storage/open.js';
import type { KeyValue, ListResult, Store, StoreReadiness, StoreWatch, WatchHandler, WriteOpts } from '../../src/storage/store.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';

const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!;
const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;
const PODS = findResource('', 'v1', 'pods')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

/** A Store that runs `beforeGuarded` (once each time it is set) just before a guarded write goes to the real store. */
class InterposingStore implements Store {
  beforeGuarded: (() => Promise<void>) | undefined;
  guardedWrites = 0;
  constructor(private readonly inner: Store) {}
  private async interpose(opts: WriteOpts | undefined): Promise<void> {
    if (!opts?.guard) return;
    this.guardedWrites++;
    const hook = this.beforeGuarded;
    this.beforeGuarded = undefined;
    await hook?.();
  }
  get(key: string): Promise<KeyValue | undefined> { return this.inner.get(key); }
  list(prefix: string): Promise<ListResult> { return this.inner.list(prefix); }
  async create(key: string, value: string, opts?: WriteOpts): Promise<KeyValue> { await this.interpose(opts); return this.inner.create(key, value, opts); }
  async update(key: string, value: string, rev?: number, opts?: WriteOpts): Promise<KeyValue> { await this.interpose(opts); return this.inner.update(key, value, rev, opts); }
  async delete(key: string, rev?: number, opts?: WriteOpts): Promise<{ prev: KeyValue; revision: number }> { await this.interpose(opts); return this.inner.delete(key, rev, opts); }
  watch(prefix: string, after: number, h: WatchHandler): StoreWatch { return this.inner.watch(prefix, after, h); }
  currentRevision(): Promise<number> { return this.inner.currentRevision(); }
  compact(r: number): Promise<void> { return this.inner.compact(r); }
  compactRevision(): Promise<number> { return this.inner.compactRevision(); }
  readiness(): Promise<StoreReadiness> { return this.inner.readiness(); }
  close(): Promise<void> { return this.inner.close(); }
}

function runRaceSuite(name: string, openInner: () => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
  describe(`fenced writes are atomic with the Lease (${name})`, () => {
    let store: InterposingStore;
    let reg: Registry;
    let cleanup: () => Promise<void> = async () => undefined;
    const ns = `fence-${randomBytes(3).toString('hex')}`;
    const leaseNs = `${ns}-sys`;
    const header = (identity: string, transitions: number) => formatFence({ lease: { namespace: leaseNs, name: 'cm' }, identity, transitions });

    const setLease = async (holder: string, transitions: number) => {
      await reg.readModifyWrite(LEASES, leaseNs, 'cm', {}, (l) => ({ ...l, spec: { ...(l.spec as object), holderIdentity: holder, leaseTransitions: transitions, renewTime: microTime(Date.now()) } }));
    };
    const fencedRejection = (e: unknown) => isFencedError(e) && /fenced: lease .* is held by "b" \(transitions 1\), not "a" \(transitions 0\)/.test((e as Error).message);

    before(async () => {
      const inner = await openInner();
      cleanup = inner.cleanup;
      store = new InterposingStore(inner.store);
      reg = new Registry(store);
      await reg.start();
      for (const n of [ns, leaseNs]) await reg.create(NAMESPACES, undefined, { metadata: { name: n } });
    });
    after(async () => {
      reg.stop();
      await cleanup();
    });

    it('a takeover between check and write: create, update, delete and binding are refused, nothing written', async () => {
      await reg.create(LEASES, leaseNs, { metadata: { name: 'cm' }, spec: { holderIdentity: 'a', leaseTransitions: 0, leaseDurationSeconds: 2 } } as KubeObject);
      await reg.create(CONFIGMAPS, ns, { metadata: { name: 'existing' }, data: { v: '1' } } as KubeObject);
      await reg.create(PODS, ns, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } } as KubeObject);
      const takeover = () => setLease('b', 1);

      // Each write: the fence is verified (A holds the Lease), then B takes over, then the store write.
      const attempts: [string, (f: Awaited<ReturnType<typeof resolveFence>>) => Promise<unknown>][] = [
        ['create', (fence) => reg.create(CONFIGMAPS, ns, { metadata: { name: 'late' }, data: { v: 'x' } } as KubeObject, { fence })],
        ['update', (fence) => reg.patchChecked(CONFIGMAPS, ns, 'existing', 'application/merge-patch+json', '{"data":{"v":"late"}}', { fence })],
        ['delete', (fence) => reg.delete(CONFIGMAPS, ns, 'existing', { fence })],
        ['binding', (fence) => reg.readModifyWrite(PODS, ns, 'p', { fence, subresource: 'binding' }, (pod) => ({ ...pod, spec: { ...(pod.spec as object), nodeName: 'n1' } }))],
      ];
      for (const [what, write] of attempts) {
        await setLease('a', 0);
        const fence = await resolveFence(store, header('a', 0));
        store.beforeGuarded = takeover;
        await assert.rejects(write(fence), fencedRejection, what);
      }
      assert.equal(await store.get(`/registry/configmaps/${ns}/late`), undefined);
      const cm = await reg.get(CONFIGMAPS, ns, 'existing');
      assert.deepEqual((cm as { data?: unknown }).data, { v: '1' });
      const pod = await reg.get(PODS, ns, 'p');
      assert.equal((pod.spec as { nodeName?: string }).nodeName, undefined);
      // And the fence check up front refuses A at once now.
      await assert.rejects(resolveFence(store, header('a', 0)), fencedRejection);
    });

    it('a renewal by the same holder between check and write: re-checked, then the write applies', async () => {
      await setLease('a', 0);
      const fence = await resolveFence(store, header('a', 0));
      const before = store.guardedWrites;
      store.beforeGuarded = () => setLease('a', 0); // a renewal: new modRevision, same holder and term
      const out = await reg.create(CONFIGMAPS, ns, { metadata: { name: 'after-renewal' }, data: { v: 'ok' } } as KubeObject, { fence });
      assert.equal(out.metadata?.name, 'after-renewal');
      assert.equal(store.guardedWrites - before, 2, 'the first guarded write failed its guard and was retried once');
      const stored = await reg.get(CONFIGMAPS, ns, 'after-renewal');
      assert.deepEqual((stored as { data?: unknown }).data, { v: 'ok' });
    });

    it('a fence naming a missing Lease or another term is refused up front', async () => {
      await assert.rejects(resolveFence(store, formatFence({ lease: { namespace: leaseNs, name: 'nope' }, identity: 'a', transitions: 0 })), (e: unknown) => isFencedError(e) && /does not exist/.test((e as Error).message));
      await setLease('a', 3);
      await assert.rejects(resolveFence(store, header('a', 2)), isFencedError);
      await assert.rejects(resolveFence(store, 'garbage'), (e: unknown) => isTriremeError(e, 'BadRequest'));
    });
  });
}

runRaceSuite('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-fence-'));
  const store = openStore({ backend: 'sqlite', dataDir: dir });
  return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); } };
});

describe('on etcd', { skip: needs(deps.etcd) }, () => {
  let etcd: EtcdProcess | undefined;
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-fence-etcd-'));
    etcd = await EtcdProcess.onFreePorts(join(root, 'data'));
    await etcd.start();
  });
  after(async () => {
    await etcd?.kill();
    if (root) await rm(root, { recursive: true, force: true });
  });
  runRaceSuite('etcd', async () => {
    const store = openStore({ backend: 'etcd', endpoints: [etcd!.endpoint], prefix: `/fence-${randomBytes(3).toString('hex')}` });
    return { store, cleanup: () => store.close() };
  });
});

describe('leader-elected identities must fence', () => {
  it('requireFence: 403 for the controller manager and scheduler users, except on Leases; others unaffected', () => {
    for (const user of ['system:kube-controller-manager', 'system:kube-scheduler']) {
      assert.throws(() => requireFence(user, { group: '', resource: 'pods' }), (e: unknown) => isTriremeError(e, 'Forbidden') && /always fenced/.test((e as Error).message));
      assert.throws(() => requireFence(user, { group: 'apps', resource: 'replicasets' }), (e: unknown) => isTriremeError(e, 'Forbidden'));
      requireFence(user, { group: 'coordination.k8s.io', resource: 'leases' });
    }
    requireFence('admin', { group: '', resource: 'pods' });
    requireFence('system:node:n1', { group: '', resource: 'pods' });
  });
});
