// Transport failures of ApiClient, against real loopback TLS servers: a server that accepts a
// request and never answers gives Timeout (not ServiceUnavailable); a port nobody listens on
// gives ServiceUnavailable; the only server, slow to finish its TLS handshake (a loaded server),
// is waited for past the quick handshake deadline meant for skipping to another server, up to
// the last server's own deadline. The slow server binds 127.0.10.1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
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
const SLOW_HOST = '127.0.10.1';

/** An HTTPS server that starts each TLS handshake only `delayMs` after the TCP connect, answering every request with a ConfigMap. */
async function slowHandshakeServer(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const tls = https.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }));
  });
  const held = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const front: NetServer = createNetServer((sock) => {
    held.add(sock);
    sock.on('close', () => held.delete(sock));
    sock.on('error', () => undefined);
    const t = setTimeout(() => { timers.delete(t); tls.emit('connection', sock); }, delayMs);
    timers.add(t);
  });
  await new Promise<void>((r) => front.listen(0, SLOW_HOST, r));
  return {
    url: `https://${SLOW_HOST}:${(front.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      for (const t of timers) clearTimeout(t);
      for (const s of held) s.destroy();
      tls.close();
      front.close(() => r());
    }),
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trireme-client-errors-'));
  pki = await ensurePki(dir, { sans: ['127.0.0.1', SLOW_HOST] });
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

test('the only server, slow to finish its TLS handshake, is waited for past the quick handshake deadline', { timeout: 20_000 }, async () => {
  const slow = await slowHandshakeServer(800);
  // The quick deadlines (for skipping to another server) are far shorter than the delay.
  const client = new ApiClient({ server: slow.url, caPem: pki.caCertPem }, { connectTimeoutMs: 100, handshakeTimeoutMs: 200 });
  try {
    const cm = await client.get(CM, 'default', 'x');
    assert.equal(cm.metadata?.name, 'x');
  } finally {
    client.close();
    await slow.close();
  }
});

test('the last server\'s own connect deadline still ends a handshake that never comes', { timeout: 20_000 }, async () => {
  const slow = await slowHandshakeServer(10_000);
  const client = new ApiClient({ server: slow.url, caPem: pki.caCertPem }, { lastServerConnectTimeoutMs: 300 });
  try {
    await assert.rejects(client.get(CM, 'default', 'x'), (e) => isTriremeError(e, 'ServiceUnavailable') && /TCP connect and TLS handshake to \S+ timed out after 300 ms/.test(e.message));
  } finally {
    client.close();
    await slow.close();
  }
});
