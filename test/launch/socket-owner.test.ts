import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { machineLock } from '../../src/agent/proxy/machine-lock.js';
import { abstractListeningInodes, abstractSocketOwner, listenerOwner, listeningInodes, machineLockHolder, parseProcAddress } from '../../src/launch/socket-owner.js';
import { silentLogger } from '../../src/util/log.js';

const TABLE = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00011B7F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1356154 1 0000000000000000 100 0 0 10 0',
  '   1: 00011B7F:0050 0B001B7F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1356999 1 0000000000000000 100 0 0 10 0',
  '   2: 01001B7F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1355515 1 0000000000000000 100 0 0 10 0',
].join('\n');

test('/proc addresses are little-endian IPv4 and a big-endian port', () => {
  assert.deepEqual(parseProcAddress('00011B7F:0050'), { ip: '127.27.1.0', port: 80 });
  assert.deepEqual(parseProcAddress('0100007F:1F90'), { ip: '127.0.0.1', port: 8080 });
  assert.equal(parseProcAddress('nonsense'), undefined);
});

test('only listening sockets on the exact address and port count', () => {
  assert.deepEqual([...listeningInodes(TABLE, 'TCP', '127.27.1.0', 80)], ['1356154']);
  assert.deepEqual([...listeningInodes(TABLE, 'TCP', '127.27.0.1', 443)], ['1355515']);
  assert.equal(listeningInodes(TABLE, 'TCP', '127.27.1.0', 443).size, 0);
  // A UDP listener is an unconnected socket (07); the TCP LISTEN rows do not match.
  assert.equal(listeningInodes(TABLE, 'UDP', '127.27.1.0', 80).size, 0);
});

test('listenerOwner finds this process for a socket it listens on, and nobody for a closed port', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    assert.equal(listenerOwner('TCP', '127.0.0.1', port, [999_999_999, process.pid]), process.pid);
    assert.equal(listenerOwner('TCP', '127.0.0.1', port, [999_999_999]), undefined);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  assert.equal(listenerOwner('TCP', '127.0.0.1', port, [process.pid]), undefined);
});

const UNIX = [
  'Num       RefCount Protocol Flags    Type St Inode Path',
  '00000000a65cd330: 00000002 00000000 00010000 0001 01 13830 @trireme-proxy-ab@@@@@@',
  '00000000a65cd331: 00000002 00000000 00010000 0001 01 13831 @trireme-proxy-abc',
  '00000000a65cd332: 00000003 00000000 00000000 0001 03 13832 @trireme-proxy-ab',
  '00000000a65cd333: 00000002 00000000 00010000 0001 01 13833 /run/trireme-proxy-ab',
  '00000000a65cd334: 00000002 00000000 00000000 0001 03 13834',
].join('\n');

test('abstract unix listeners: the exact name (NUL padding shown as @), listening only, no path sockets', () => {
  assert.deepEqual([...abstractListeningInodes(UNIX, 'trireme-proxy-ab')], ['13830']);
  assert.deepEqual([...abstractListeningInodes(UNIX, 'trireme-proxy-abc')], ['13831']);
  assert.equal(abstractListeningInodes(UNIX, 'trireme-proxy-a').size, 0);
});

test('machineLockHolder finds this process while it holds a cluster\'s lock, and nobody after', { skip: process.platform !== 'linux' }, async () => {
  const key = `cluster-${randomBytes(8).toString('hex')}`;
  const lock = machineLock(key, silentLogger);
  assert.ok(lock);
  assert.equal(await lock.tryAcquire(), true);
  try {
    assert.equal(machineLockHolder(key, [999_999_999, process.pid]), process.pid);
    assert.equal(abstractSocketOwner(lock.name, [process.pid]), process.pid);
    assert.equal(machineLockHolder(`${key}-other`, [process.pid]), undefined);
  } finally {
    await lock.release();
  }
  assert.equal(machineLockHolder(key, [process.pid]), undefined);
});
