// The real loop against a real API server in this process: nodes and pods created through
// the client, pods bound by the scheduler, anti-affinity surplus left Pending with the
// reason, and scheduled once a new node appears.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { resource } from '../../src/client/resources.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { node, pod } from './fixtures.js';

const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const EVENTS = resource('', 'events');
const HOST = 'kubernetes.io/hostname';

let api: TestApiServer;
let sched: Scheduler;

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const getPod = (name: string) => api.client.get<Pod & KubeObject>(PODS, 'default', name);

before(async () => {
  api = await startTestApiServer();
  sched = new Scheduler({ client: api.client, initialBackoffMs: 50, maxBackoffMs: 200 });
  await sched.start();
});

after(async () => {
  sched.stop();
  await api.close();
});

test('binds pods to fitting nodes, spreads, and records Scheduled events', async () => {
  await api.client.create<Node & KubeObject>(NODES, undefined, node('n1', { cpu: '2' }) as Node & KubeObject);
  await api.client.create<Node & KubeObject>(NODES, undefined, node('n2', { cpu: '2' }) as Node & KubeObject);
  await api.client.create<Node & KubeObject>(NODES, undefined, node('down', { ready: false }) as Node & KubeObject);
  for (const n of ['a', 'b', 'c', 'd']) await api.client.create(PODS, 'default', pod(n, { cpu: '900m' }) as Pod & KubeObject);
  const placed = await until('4 pods bound', async () => {
    const pods = await Promise.all(['a', 'b', 'c', 'd'].map(getPod));
    return pods.every((p) => p.spec?.nodeName) ? pods.map((p) => p.spec?.nodeName) : undefined;
  });
  assert.deepEqual(placed.sort(), ['n1', 'n1', 'n2', 'n2']);
  const a = await getPod('a');
  assert.equal(a.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  const ev = await until('Scheduled event', async () => {
    const list = await api.client.list<Event & KubeObject>(EVENTS, 'default');
    return list.items.find((e) => e.reason === 'Scheduled' && e.involvedObject.name === 'a');
  });
  assert.equal(ev.message, `Successfully assigned default/a to ${a.spec?.nodeName}`);
  assert.equal(ev.type, 'Normal');

  // Both nodes are now full: the next pod waits with the reason.
  await api.client.create(PODS, 'default', pod('e', { cpu: '900m' }) as Pod & KubeObject);
  const cond = await until('PodScheduled=False', async () => {
    const c = (await getPod('e')).status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.status === 'False' ? c : undefined;
  });
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, '0/3 nodes are available: 1 node(s) were not ready, 2 Insufficient cpu.');
  // Deleting a pod frees room: the waiting one is retried and bound.
  await api.client.delete(PODS, 'default', 'a', { gracePeriodSeconds: 0 });
  const node_ = await until('e bound', async () => (await getPod('e')).spec?.nodeName || undefined);
  assert.equal(node_, a.spec?.nodeName);
});

test('anti-affinity leaves the surplus Pending with the reason; a new node schedules it', async () => {
  const web = (name: string) => pod(name, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: HOST, labelSelector: { matchLabels: { app: 'web' } } }] } } }, { labels: { app: 'web' } }) as Pod & KubeObject;
  for (const n of ['web-1', 'web-2', 'web-3']) await api.client.create(PODS, 'default', web(n));
  const cond = await until('surplus Pending', async () => {
    const pods = await Promise.all(['web-1', 'web-2', 'web-3'].map(getPod));
    const pending = pods.filter((p) => !p.spec?.nodeName);
    const c = pending[0]?.status?.conditions?.find((x) => x.type === 'PodScheduled');
    return pods.filter((p) => p.spec?.nodeName).length === 2 && pending.length === 1 && c?.status === 'False' ? { c, name: pending[0]?.metadata?.name ?? '' } : undefined;
  });
  assert.equal(cond.c.message, "0/3 nodes are available: 1 node(s) were not ready, 2 node(s) didn't match pod anti-affinity rules.");
  const bound = await Promise.all(['web-1', 'web-2', 'web-3'].map(getPod));
  assert.deepEqual(bound.map((p) => p.spec?.nodeName).filter(Boolean).sort(), ['n1', 'n2']);
  const warn = await until('FailedScheduling event', async () => {
    const list = await api.client.list<Event & KubeObject>(EVENTS, 'default');
    return list.items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === cond.name);
  });
  assert.equal(warn.type, 'Warning');

  await api.client.create<Node & KubeObject>(NODES, undefined, node('n3', { cpu: '2' }) as Node & KubeObject);
  const where = await until('surplus bound', async () => (await getPod(cond.name)).spec?.nodeName || undefined);
  assert.equal(where, 'n3');
});
