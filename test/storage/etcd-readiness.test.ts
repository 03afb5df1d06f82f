// EtcdStore readiness against a real single-member etcd: ready while etcd answers; a frozen
// member (SIGSTOP: connections accepted, nothing answered) makes readiness false within its
// ~2 s deadline, and thawing it (SIGCONT) makes it true again; a killed member fails reads and
// writes, and after a restart the write probe clears the failed write, so readiness returns
// without any client write; a member whose space quota is exhausted refuses writes with
// InsufficientStorage and is not ready (NOSPACE alarm) until an operator compacts, defragments
// and disarms it. Under CI=true a missing etcd fails the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTriremeError } from '../../src/errors.js';
import { EtcdStore } from '../../src/storage/etcd.js';
import { pollUntil } from '../../src/util/poll.js';
import { Etcd3 } from 'etcd3';
import { deps, missingOf, requireCapability } from '../helpers/require-dep.js';
import { EtcdProcess } from '../helpers/etcd.js';

const missing = missingOf(deps.etcd);
let etcd: EtcdProcess | undefined;
let root = '';

before(async () => {
  if (missing) return;
  root = await mkdtemp(join(tmpdir(), 'trireme-etcd-ready-'));
  etcd = await EtcdProcess.onFreePorts(join(root, 'data'));
  await etcd.start();
});

after(async () => {
  await etcd?.kill();
  if (root) await rm(root, { recursive: true, force: true });
});

const readyAgain = (store: EtcdStore) =>
  pollUntil('etcd readiness to pass again', async () => {
    const r = await store.readiness();
    return r.ok ? r : undefined;
  }, { timeoutMs: 20_000, everyMs: 200 });

test('a frozen etcd member: not ready within the deadline, ready again once thawed', { timeout: 60_000 }, async (t) => {
  if (!requireCapability(t, missing)) return;
  const member = etcd!;
  const store = EtcdStore.open({ endpoints: [member.endpoint], prefix: '/ready-a' });
  let frozen = false;
  try {
    await store.create('/k', 'v');
    const ok = await store.readiness();
    assert.equal(ok.ok, true, ok.message);
    assert.match(ok.message, /^etcd: read ok, last write ok/);

    member.signal('SIGSTOP');
    frozen = true;
    const started = Date.now();
    const r = await store.readiness();
    const took = Date.now() - started;
    t.diagnostic(`readiness answered in ${took} ms while etcd was frozen: ${r.message}`);
    assert.equal(r.ok, false);
    assert.match(r.message, /^etcd: read failed: .*(deadline|DEADLINE)/);
    assert.ok(took < 4_000, `readiness took ${took} ms`);

    member.signal('SIGCONT');
    frozen = false;
    const back = await readyAgain(store);
    assert.match(back.message, /^etcd: read ok/);
  } finally {
    if (frozen) member.signal('SIGCONT');
    await store.close();
  }
});

test('a killed etcd: the failed write keeps readiness false until the write probe succeeds after the restart', { timeout: 90_000 }, async (t) => {
  if (!requireCapability(t, missing)) return;
  const member = etcd!;
  const store = EtcdStore.open({ endpoints: [member.endpoint], prefix: '/ready-b' });
  try {
    await store.create('/k', 'v');
    const revision = await store.currentRevision();
    await member.kill();
    await assert.rejects(store.create('/k2', 'v'));
    const down = await store.readiness();
    assert.equal(down.ok, false);
    assert.match(down.message, /read failed: .*; last write failed/);

    await member.start();
    const back = await readyAgain(store);
    // The probe changed nothing: same keys, same revision.
    assert.match(back.message, /^etcd: read ok, last write ok/);
    assert.deepEqual((await store.list('/')).items.map((kv) => kv.key), ['/k']);
    assert.equal(await store.currentRevision(), revision);
    assert.equal((await store.create('/k3', 'v')).key, '/k3');
  } finally {
    await store.close();
  }
});

test('etcd out of space: writes are InsufficientStorage, not ready (NOSPACE), ready again after compact, defrag and disarm', { timeout: 90_000 }, async (t) => {
  if (!requireCapability(t, missing)) return;
  const dir = await mkdtemp(join(tmpdir(), 'trireme-etcd-nospace-'));
  const small = await EtcdProcess.onFreePorts(join(dir, 'data'), ['--quota-backend-bytes', String(4 * 1024 * 1024)]);
  const store = EtcdStore.open({ endpoints: [small.endpoint] });
  const admin = new Etcd3({ hosts: small.endpoint });
  try {
    await small.start();
    const pad = 'x'.repeat(256 * 1024);
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      try {
        await store.update('/big', pad + String(i)).catch(async (e: unknown) => {
          if (isTriremeError(e, 'NotFound')) return store.create('/big', pad);
          throw e;
        });
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused !== undefined, 'etcd never ran out of space');
    assert.ok(isTriremeError(refused, 'InsufficientStorage'), String(refused));
    assert.match((refused as Error).message, /space quota is exhausted, nothing was written/);
    const sick = await store.readiness();
    t.diagnostic(sick.message);
    assert.equal(sick.ok, false);
    assert.match(sick.message, /last write failed .*space quota/);
    assert.match(sick.message, /alarms raised: NOSPACE on member/);

    // The operator's way out (etcd does not clear NOSPACE by itself).
    const rev = await store.currentRevision();
    await admin.kv.compact({ revision: rev, physical: true });
    await admin.maintenance.defragment();
    const alarms = await admin.maintenance.alarm({ action: 'Get', alarm: 'None', memberID: 0 });
    for (const a of alarms.alarms) await admin.maintenance.alarm({ action: 'Deactivate', alarm: a.alarm, memberID: a.memberID });
    const back = await readyAgain(store);
    assert.match(back.message, /last write ok/);
    await store.update('/big', 'small again');
  } finally {
    admin.close();
    await store.close();
    await small.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
