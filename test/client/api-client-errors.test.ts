// Transport failures of ApiClient, against real loopback TLS servers: a server that accepts a
// request and never answers gives Timeout (not ServiceUnavailable); a port nobody listens on
// gives ServiceUnavailable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, type Pki } from '../../src/apiserver/pki.js';
import { ApiClient } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';
import { freePort } from '../helpers/net.js';

const CM = resource('', 'configmaps');
let dir = '';
let pki: Pki;
let silent: https.Server;
const sockets = new Set<Socket>();
let seen = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trireme-client-errors-'));
  pki = await ensurePki(dir, { sans: ['127.0.0.1'] });
  // Reads each request and never answers it.
  silent = https.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, () => { seen++; });
  silent.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

test('a request the server never answers fails with Timeout', { timeout: 20_000 }, async () => {
  const port = (silent.address() as AddressInfo).port;
  const client = new ApiClient({ server: `https://127.0.0.1:${port}`, caPem: pki.caCertPem }, { requestTimeoutMs: 300 });
  try {
    const started = Date.now();
    await assert.rejects(client.get(CM, 'default', 'x'), (e) => isTriremeError(e, 'Timeout') && /sent nothing for 300 ms/.test(e.message));
    assert.ok(Date.now() - started >= 250, 'it waited for the timeout');
    assert.equal(seen, 1, 'the request reached the server');
  } finally {
    client.close();
  }
});

test('a server nobody listens on is ServiceUnavailable', { timeout: 20_000 }, async () => {
  const port = await freePort('127.0.0.1');
  const client = new ApiClient({ server: `https://127.0.0.1:${port}`, caPem: pki.caCertPem }, { requestTimeoutMs: 5_000 });
  try {
    await assert.rejects(client.get(CM, 'default', 'x'), (e) => isTriremeError(e, 'ServiceUnavailable') && /ECONNREFUSED/.test(e.message));
  } finally {
    client.close();
  }
});
