// The registry's per-kind hooks against a real SQLite store: Service allocations are taken on
// create, kept on update, and given back when the Service is removed (delete, or the update
// that drops its last finalizer) or never stored; pods are deleted gracefully; a namespace
// goes Terminating and is removed once finalized.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/object.js';
import { findResource } from '../../src/api/resources.js';
import { Registry } from '../../src/apiserver/registry.js';
import { isTriremeError } from '../../src/errors.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { FakeClock } from '../../src/util/clock.js';
import { parseServiceRange } from '../../src/api/service-range.js';

const SERVICES = findResource('', 'v1', 'services')!;
const PODS = findResource('', 'v1', 'pods')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

type Svc = KubeObject & { spec?: { clusterIP?: string; ports?: { port: number; nodePort?: number }[] } };
const svc = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => isTriremeError(e, code as never) && (!re || re.test((e as Error).message)));
}

describe('registry per-kind hooks (SQLite store)', () => {
  let dir: string;
  let store: Store;
  let reg: Registry;
  const clock = new FakeClock(Date.UTC(2024, 0, 1));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trireme-registry-'));
    store = openStore({ backend: 'sqlite', dataDir: dir });
    reg = new Registry(store, { clock });
    await reg.start();
    await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  });
  after(async () => {
    reg.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a ClusterIP is taken on create, refused to a second Service, and free again after delete', async () => {
    const a = await reg.create(SERVICES, 'default', svc('a')) as Svc;
    const ip = a.spec?.clusterIP;
    assert.match(ip ?? '', /^127\.10\.\d+\.\d+$/);
    await rejects(reg.create(SERVICES, 'default', svc('b', { clusterIP: ip })), 'Invalid', /already allocated/);
    // A dry run neither takes nor checks the store's allocation.
    await reg.create(SERVICES, 'default', svc('dry', { clusterIP: ip }), { dryRun: true });
    await reg.delete(SERVICES, 'default', 'a');
    const b = await reg.create(SERVICES, 'default', svc('b', { clusterIP: ip })) as Svc;
    assert.equal(b.spec?.clusterIP, ip);
  });

  it('a custom range: automatic ClusterIPs come from its upper band, then the fixed band; NodePorts stay in their range', async () => {
    const small = openStore({ backend: 'sqlite', dataDir: join(dir, 'small') });
    const r = new Registry(small, { clock, serviceRanges: { serviceRange: parseServiceRange('127.20.0.0/27'), nodePortRange: { min: 31000, max: 31001 } } });
    await r.start();
    try {
      await r.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
      const ips: string[] = [];
      for (let i = 0; i < 16; i++) ips.push(((await r.create(SERVICES, 'default', svc(`s${i}`))) as Svc).spec!.clusterIP!);
      // /27: 30 assignable addresses, the band starts at 16: offsets 16..30 first (15 of them), then 1.
      assert.deepEqual(ips.slice(0, 15), Array.from({ length: 15 }, (_, i) => `127.20.0.${16 + i}`));
      assert.equal(ips[15], '127.20.0.1');
      await rejects(r.create(SERVICES, 'default', svc('out', { clusterIP: '127.10.0.5' })), 'Invalid', /valid range\. The range of valid IPs is 127\.20\.0\.0\/27/);
      await rejects(r.create(SERVICES, 'default', svc('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30000 }] })), 'Invalid', /31000-31001/);
      const np = await r.create(SERVICES, 'default', svc('np', { type: 'NodePort' })) as Svc;
      assert.equal(np.spec?.ports?.[0]?.nodePort, 31000);
    } finally {
      r.stop();
      await small.close();
    }
  });

  it('a create that is not stored gives back what it reserved', async () => {
    await reg.create(SERVICES, 'default', svc('dup'));
    const want = '127.10.200.1';
    await rejects(reg.create(SERVICES, 'default', svc('dup', { clusterIP: want })), 'AlreadyExists');
    const other = await reg.create(SERVICES, 'default', svc('other', { clusterIP: want })) as Svc;
    assert.equal(other.spec?.clusterIP, want);
  });

  it('an update keeps the allocations it does not name; removal by finalizer releases them', async () => {
    const np = await reg.create(SERVICES, 'default', svc('np', { type: 'NodePort', clusterIP: '127.10.200.2' })) as Svc;
    const nodePort = np.spec?.ports?.[0]?.nodePort;
    assert.ok(nodePort && nodePort >= 30000 && nodePort <= 32767);
    const updated = await reg.update(SERVICES, 'default', 'np', { ...svc('np', { type: 'NodePort', ports: [{ port: 80 }] }), metadata: { name: 'np', finalizers: ['example.com/hold'] } }) as Svc;
    assert.equal(updated.spec?.clusterIP, '127.10.200.2');
    assert.equal(updated.spec?.ports?.[0]?.nodePort, nodePort);
    const marked = await reg.delete(SERVICES, 'default', 'np');
    assert.equal(marked.deleted, false);
    await rejects(reg.create(SERVICES, 'default', svc('np2', { type: 'NodePort', clusterIP: '127.10.200.2' })), 'Invalid', /already allocated/);
    await reg.readModifyWrite(SERVICES, 'default', 'np', {}, (cur) => ({ ...cur, metadata: { ...cur.metadata, finalizers: [] } }));
    await rejects(reg.get(SERVICES, 'default', 'np'), 'NotFound');
    const again = await reg.create(SERVICES, 'default', svc('np2', { type: 'NodePort', clusterIP: '127.10.200.2', ports: [{ port: 80, nodePort }] })) as Svc;
    assert.equal(again.spec?.ports?.[0]?.nodePort, nodePort);
  });

  it('a pod on a node is marked for its grace period, survives status writes, and the zero-grace delete removes it', async () => {
    await reg.create(PODS, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n1', terminationGracePeriodSeconds: 7, containers: [{ name: 'c', image: 'x' }] } });
    const first = await reg.delete(PODS, 'default', 'p');
    assert.equal(first.deleted, false);
    assert.equal(first.object.metadata?.deletionTimestamp, '2024-01-01T00:00:07Z');
    assert.equal(first.object.metadata?.deletionGracePeriodSeconds, 7);
    // The node reports its containers stopping: a status write during the grace period keeps the pod.
    await reg.readModifyWrite(PODS, 'default', 'p', { subresource: 'status' }, (cur) => ({ ...cur, status: { phase: 'Running', message: 'stopping' } }));
    const stillThere = await reg.get(PODS, 'default', 'p');
    assert.equal((stillThere.status as { message?: string }).message, 'stopping');
    assert.equal(stillThere.metadata?.deletionGracePeriodSeconds, 7);
    const confirmed = await reg.delete(PODS, 'default', 'p', { gracePeriodSeconds: 0 });
    assert.equal(confirmed.deleted, true);
    await rejects(reg.get(PODS, 'default', 'p'), 'NotFound');
  });

  it('a namespace goes Terminating, refuses new content, and is removed once finalized', async () => {
    await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } });
    const marked = await reg.delete(NAMESPACES, undefined, 'gone');
    assert.equal(marked.deleted, false);
    assert.equal((marked.object.status as { phase?: string }).phase, 'Terminating');
    await rejects(reg.create(SERVICES, 'gone', svc('late')), 'Forbidden', /being terminated/);
    await reg.readModifyWrite(NAMESPACES, undefined, 'gone', { subresource: 'finalize' }, (cur) => ({ ...cur, spec: { finalizers: [] } }));
    await rejects(reg.get(NAMESPACES, undefined, 'gone'), 'NotFound');
  });
});
