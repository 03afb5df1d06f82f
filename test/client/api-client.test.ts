import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { resource } from '../../src/client/resources.js';
import { Informer } from '../../src/client/informer.js';
import { EventRecorder } from '../../src/client/events.js';
import { isTriremeError } from '../../src/errors.js';
import type { KubeObject } from '../../src/api/object.js';

const CM = resource('', 'configmaps');
const EVENTS = resource('', 'events');
let api: TestApiServer;

before(async () => { api = await startTestApiServer(); });
after(async () => { await api.close(); });

const waitUntil = async (fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('CRUD, typed errors and patches', { timeout: 20_000 }, async () => {
  const c = api.client;
  const made = await c.create(CM, 'default', { metadata: { name: 'one' }, data: { a: '1' } });
  assert.equal(made.metadata?.name, 'one');
  await assert.rejects(c.create(CM, 'default', { metadata: { name: 'one' } }), (e) => isTriremeError(e, 'AlreadyExists'));
  await assert.rejects(c.get(CM, 'default', 'nope'), (e) => isTriremeError(e, 'NotFound'));
  const patched = await c.patch<KubeObject>(CM, 'default', 'one', 'merge', { data: { b: '2' } });
  assert.deepEqual(patched.data, { a: '1', b: '2' });
  await assert.rejects(c.update(CM, 'default', { ...made, data: {} }), (e) => isTriremeError(e, 'Conflict'));
  const list = await c.list(CM, 'default');
  assert.ok(list.items.some((i) => i.metadata?.name === 'one' && i.kind === 'ConfigMap'));
  await c.delete(CM, 'default', 'one');
  await assert.rejects(c.get(CM, 'default', 'one'), (e) => isTriremeError(e, 'NotFound'));
});

test('an informer lists, follows changes, and hands deletions over', { timeout: 20_000 }, async () => {
  const c = api.client;
  await c.create(CM, 'default', { metadata: { name: 'pre' } });
  const inf = new Informer<KubeObject>(c, CM, { namespace: 'default' });
  const log: string[] = [];
  inf.on({ add: (o) => log.push(`add ${o.metadata?.name}`), update: (_o, n) => log.push(`update ${n.metadata?.name}`), delete: (o) => log.push(`delete ${o.metadata?.name}`) });
  await inf.start();
  assert.ok(inf.synced);
  assert.ok(inf.get('default', 'pre'));
  await c.create(CM, 'default', { metadata: { name: 'live' } });
  await c.patch(CM, 'default', 'live', 'merge', { data: { x: 'y' } });
  await c.delete(CM, 'default', 'live');
  await waitUntil(() => log.includes('delete live'));
  assert.deepEqual(log.filter((l) => l.endsWith('live')), ['add live', 'update live', 'delete live']);
  assert.equal(inf.get('default', 'live'), undefined);
  inf.stop();
});

test('the event recorder aggregates repeats into a count', { timeout: 20_000 }, async () => {
  const c = api.client;
  const cm = await c.create(CM, 'default', { metadata: { name: 'evt' } });
  const rec = new EventRecorder(c, { component: 'test' });
  const events = async () => (await c.list<KubeObject & { count?: number }>(EVENTS, 'default', { fieldSelector: 'involvedObject.name=evt' })).items;
  rec.event(cm, 'Warning', 'Oops', 'it broke');
  let items = await events();
  for (let i = 0; i < 100 && items.length === 0; i++) { await new Promise((r) => setTimeout(r, 20)); items = await events(); }
  assert.equal(items.length, 1);
  rec.event(cm, 'Warning', 'Oops', 'it broke');
  let count = 0;
  for (let i = 0; i < 100 && count !== 2; i++) {
    await new Promise((r) => setTimeout(r, 20));
    items = await events();
    assert.equal(items.length, 1, 'a repeat does not add a second Event');
    count = items[0]?.count ?? 0;
  }
  assert.equal(count, 2);
});
