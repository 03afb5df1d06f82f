// The machine lock between the proxies of one cluster on one machine (abstract unix socket).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AbstractSocketLock, machineLock } from '../../../src/agent/proxy/machine-lock.js';
import { silentLogger } from '../../../src/util/log.js';

describe('proxy machine lock', { skip: process.platform !== 'linux' && 'abstract unix sockets are Linux-only' }, () => {
  it('one holder at a time; released, the next one gets it', async () => {
    const name = `trireme-test-${randomUUID()}`;
    const a = new AbstractSocketLock(name, silentLogger);
    const b = new AbstractSocketLock(name, silentLogger);
    assert.equal(await a.tryAcquire(), true);
    assert.equal(await a.tryAcquire(), true, 'held already');
    assert.equal(await b.tryAcquire(), false);
    assert.equal(b.held, false);
    await a.release();
    assert.equal(await b.tryAcquire(), true);
    assert.equal(await a.tryAcquire(), false);
    await b.release();
  });

  it('named after the cluster: the same key gives the same lock, another key another one', () => {
    const x = machineLock('CA one', silentLogger);
    assert.equal(x?.name, machineLock('CA one', silentLogger)?.name);
    assert.notEqual(x?.name, machineLock('CA two', silentLogger)?.name);
    assert.equal(machineLock('CA one', silentLogger, 'darwin'), undefined, 'no abstract sockets: no lock');
  });
});
