// readiness(): the store check carries the store's own verdict and message; a store that does
// not answer fails the check at the deadline (fake clock) instead of hanging /readyz; shutdown
// is its own check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readiness } from '../../src/apiserver/readiness.js';
import type { Store, StoreReadiness } from '../../src/storage/store.js';
import { FakeClock } from '../../src/util/clock.js';

/** Only readiness() is called by the code under test. */
const storeAnswering = (answer: Promise<StoreReadiness>): Store => ({ readiness: () => answer }) as unknown as Store;

test('the store verdict and message become the store check', async () => {
  const clock = new FakeClock();
  const sick = await readiness({ store: storeAnswering(Promise.resolve({ ok: false, message: 'sqlite: disk is full' })), clock, shuttingDown: () => false });
  assert.deepEqual(sick, [{ name: 'store', ok: false, message: 'sqlite: disk is full' }, { name: 'shutdown', ok: true }]);
  const fine = await readiness({ store: storeAnswering(Promise.resolve({ ok: true, message: 'sqlite: read ok' })), clock, shuttingDown: () => true });
  assert.deepEqual(fine, [{ name: 'store', ok: true }, { name: 'shutdown', ok: false, message: 'server is shutting down' }]);
});

test('a store that does not answer fails the check at the deadline', async () => {
  const clock = new FakeClock();
  const pending = readiness({ store: storeAnswering(new Promise(() => undefined)), clock, shuttingDown: () => false, timeoutMs: 3_000 });
  clock.advance(3_000);
  const checks = await pending;
  assert.deepEqual(checks[0], { name: 'store', ok: false, message: 'the store did not answer within 3000 ms' });
});

test('a store whose readiness rejects fails the check with the error', async () => {
  const checks = await readiness({ store: storeAnswering(Promise.reject(new Error('boom'))), clock: new FakeClock(), shuttingDown: () => false });
  assert.deepEqual(checks[0], { name: 'store', ok: false, message: 'boom' });
});
