import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listenerOwner, listeningInodes, parseProcAddress } from '../../src/launch/socket-owner.js';

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
