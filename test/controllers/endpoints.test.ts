// Integration: the Endpoints, EndpointSlice and mirroring controllers in a controller manager
// against a real in-process API server. The test plays the agent by writing pod status (podIP,
// Ready, the PortsAllocated record) directly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { kubeTime } from '../../src/api/time.js';
import { resource } from '../../src/client/resources.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { waitFor, type PodLike } from './fixtures.js';

const PODS = resource('', 'pods');
const SERVICES = resource('', 'services');
const ENDPOINTS = resource('', 'endpoints');
const SLICES = resource('discovery.k8s.io', 'endpointslices');
const NS = 'default';
type Obj<T> = T & KubeObject;

describe('endpoint controllers (in-process API server)', () => {
  let api: TestApiServer;
  let cm: { stop(): Promise<void> };

  before(async () => {
    api = await startTestApiServer('127.0.22.31');
    cm = await startControllerManager(api.client, { logger: silentLogger, workers: 2 });
  });
  after(async () => {
    await cm.stop();
    await api.close();
  });

  /** A pod of app=many; no declared ports, so the Service's numbered targetPort is used as is. */
  const createPod = (name: string) => api.client.create<PodLike>(PODS, NS, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'many' } },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'x' }] },
  });
  const setReady = (name: string, ready: boolean) => api.client.patch(PODS, NS, name, 'merge', {
    status: { phase: 'Running', podIP: '127.0.22.32', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: kubeTime(Date.now()) }] },
  }, { subresource: 'status' });
  /** Runs `f` over `items` a few at a time (one process serves and calls: keep TLS handshakes few). */
  const each = async (items: string[], f: (n: string) => Promise<unknown>) => {
    for (let i = 0; i < items.length; i += 10) await Promise.all(items.slice(i, i + 10).map(f));
  };
  const slicesOf = async (svc: string) => (await api.client.list<Obj<EndpointSlice>>(SLICES, NS, { labelSelector: `kubernetes.io/service-name=${svc}` })).items;

  it('150 pods: Endpoints with every address, two slices, no endpoint twice; readiness flips follow', async () => {
    await api.client.create<Obj<Service>>(SERVICES, NS, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'many' },
      spec: { selector: { app: 'many' }, ports: [{ name: 'http', port: 80, targetPort: 7000, protocol: 'TCP' }] },
    });
    // Before any pod: the Service gets one empty placeholder slice.
    await waitFor(async () => {
      const l = await slicesOf('many');
      return l.length === 1 && l[0]!.endpoints.length === 0 ? true : undefined;
    });
    const names = Array.from({ length: 150 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    for (const n of names) await createPod(n);
    await each(names, (n) => setReady(n, true));
    const ep = await waitFor(async () => {
      const e = await api.client.get<Obj<Endpoints>>(ENDPOINTS, NS, 'many').catch(() => undefined);
      return e?.subsets?.[0]?.addresses?.length === 150 ? e : undefined;
    }, 30_000);
    assert.deepEqual(ep.subsets?.[0]?.ports, [{ name: 'http', port: 7000, protocol: 'TCP' }]);
    const settled = async (ready: number) => waitFor(async () => {
      const l = await slicesOf('many');
      const all = l.flatMap((s) => s.endpoints);
      return all.length === 150 && all.filter((e) => e.conditions?.ready).length === ready ? l : undefined;
    }, 30_000);
    let list = await settled(150);
    // How they are packed depends on the order pods arrived in; at most 100 per slice, two slices.
    assert.equal(list.length, 2, JSON.stringify(list.map((s) => s.endpoints.length)));
    assert.ok(list.every((s) => s.endpoints.length <= 100));
    assert.equal(new Set(list.flatMap((s) => s.endpoints.map((e) => e.targetRef?.uid))).size, 150, 'no endpoint twice');
    // Ten pods become not ready: in notReadyAddresses and ready: false, in the same slices.
    const before = new Map(list.flatMap((s) => s.endpoints.map((e) => [e.targetRef?.name, s.metadata?.name])));
    await each(names.slice(0, 10), (n) => setReady(n, false));
    await waitFor(async () => {
      const e = await api.client.get<Obj<Endpoints>>(ENDPOINTS, NS, 'many');
      return e.subsets?.[0]?.notReadyAddresses?.length === 10 ? true : undefined;
    }, 30_000);
    list = await settled(140);
    const after = new Map(list.flatMap((s) => s.endpoints.map((e) => [e.targetRef?.name, s.metadata?.name])));
    assert.deepEqual(after, before, 'endpoints stay in their slices');
    // Deleting pods removes them; the Service's deletion removes everything.
    await each(names.slice(0, 60), (n) => api.client.delete(PODS, NS, n, { gracePeriodSeconds: 0 }));
    await waitFor(async () => ((await slicesOf('many')).flatMap((s) => s.endpoints).length === 90 ? true : undefined), 30_000);
    await api.client.delete(SERVICES, NS, 'many');
    await waitFor(async () => ((await slicesOf('many')).length === 0 ? true : undefined), 30_000);
    await waitFor(async () => (await api.client.get(ENDPOINTS, NS, 'many').then(() => undefined, () => true)), 30_000);
  });

  it('a hand-made Endpoints of a selector-less Service is never overwritten, and mirrored', async () => {
    await api.client.create<Obj<Service>>(SERVICES, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { ports: [{ port: 5432, protocol: 'TCP' }] } });
    const made = await api.client.create<Obj<Endpoints>>(ENDPOINTS, NS, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext' },
      subsets: [{ addresses: [{ ip: '192.0.2.1' }], notReadyAddresses: [{ ip: '192.0.2.2' }], ports: [{ port: 5432, protocol: 'TCP' }] }],
    });
    const [mirror] = await waitFor(async () => {
      const l = await slicesOf('ext');
      return l.length === 1 ? l : undefined;
    });
    assert.deepEqual(mirror!.endpoints.map((e) => [e.addresses[0], e.conditions?.ready]), [['192.0.2.1', true], ['192.0.2.2', false]]);
    assert.equal(mirror!.metadata?.ownerReferences?.[0]?.kind, 'Endpoints');
    // The Endpoints changes: the mirror follows; the Endpoints itself is untouched.
    await api.client.update<Obj<Endpoints>>(ENDPOINTS, NS, { ...made, subsets: [{ addresses: [{ ip: '192.0.2.3' }], ports: [{ port: 5432, protocol: 'TCP' }] }] });
    await waitFor(async () => ((await slicesOf('ext'))[0]?.endpoints[0]?.addresses[0] === '192.0.2.3' ? true : undefined));
    const ep = await api.client.get<Obj<Endpoints>>(ENDPOINTS, NS, 'ext');
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '192.0.2.3' }], ports: [{ port: 5432, protocol: 'TCP' }] }]);
    // Deleting the Service stops the mirroring but leaves the Endpoints.
    await api.client.delete(SERVICES, NS, 'ext');
    await waitFor(async () => ((await slicesOf('ext')).length === 0 ? true : undefined));
    assert.ok(await api.client.get(ENDPOINTS, NS, 'ext'));
  });
});
