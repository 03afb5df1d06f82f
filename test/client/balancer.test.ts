// The balancer and the ApiClient over real sockets: small HTTPS servers on 127.0.5.1-4 with
// certificates from a test CA stand in for API servers (each answers /readyz, the
// default/kubernetes Endpoints naming all of them, and a ConfigMap GET naming itself). Checked:
// servers are learned from Endpoints and remembered on disk; a request whose current server is
// closed succeeds on the next one by itself (no probe involved); a server with a certificate
// from another CA (TLS failure), and one that accepts but never completes the TLS handshake
// (the handshake deadline), are skipped the same way; a hung server is marked down by the
// probes and its keep-alive sockets are destroyed, so a write stuck on it fails at once, a read
// stuck on it is answered by another server, and the next request goes elsewhere; a request that failed after it was sent is surfaced, not retried.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, type Pki } from '../../src/apiserver/pki.js';
import { ApiClient } from '../../src/client/api-client.js';
import { ServerBalancer } from '../../src/client/balancer.js';
import { resource } from '../../src/client/resources.js';
import type { ClientConfig } from '../../src/client/config.js';
import { isTriremeError } from '../../src/errors.js';
import { pollUntil } from '../../src/util/poll.js';

const CM = resource('', 'configmaps');

interface FakeServer {
  name: string;
  host: string;
  url: string;
  /** Requests received, as `METHOD path`. */
  seen: string[];
  mode: 'ok' | 'hang' | 'reset';
  close(): Promise<void>;
}

async function startFake(name: string, host: string, pki: { certPem: string; keyPem: string }, all: () => FakeServer[]): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const server = https.createServer({ cert: pki.certPem, key: pki.keyPem });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const fake: FakeServer = {
    name, host, url: '', seen: [], mode: 'ok',
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    fake.seen.push(`${req.method} ${req.url}`);
    if (fake.mode === 'hang') return; // never answers, keeps the connection
    if (fake.mode === 'reset' && req.method === 'POST') {
      req.socket.destroy();
      return;
    }
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/readyz') {
      res.end('ok');
    } else if (req.url === '/api/v1/namespaces/default/endpoints/kubernetes') {
      // One subset per server: each has its own port.
      json(200, { kind: 'Endpoints', apiVersion: 'v1', metadata: { name: 'kubernetes' }, subsets: all().map((f) => ({ addresses: [{ ip: f.host }], ports: [{ name: 'https', port: Number(new URL(f.url).port) }] })) });
    } else if (req.url?.startsWith('/api/v1/namespaces/default/configmaps')) {
      json(200, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', namespace: 'default' }, data: { server: name } });
    } else {
      json(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  fake.url = `https://${host}:${(server.address() as { port: number }).port}`;
  return fake;
}

describe('client-side balancer over real sockets', { timeout: 60_000 }, () => {
  let dir: string;
  let pki: Pki;
  let fakes: FakeServer[] = [];
  const cleanups: (() => unknown)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trireme-balancer-'));
    pki = await ensurePki(join(dir, 'ca'), { sans: ['127.0.5.1', '127.0.5.2', '127.0.5.3', '127.0.5.4'] });
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    for (const f of fakes) await f.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Three good servers A, B, C (fresh for each test). */
  async function three(): Promise<FakeServer[]> {
    for (const f of fakes) await f.close();
    const set: FakeServer[] = [];
    for (const [i, n] of ['a', 'b', 'c'].entries()) set.push(await startFake(n, `127.0.5.${i + 1}`, { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem }, () => set));
    fakes = set;
    return set;
  }

  function identity(seed: string): ClientConfig {
    return { server: seed, caPem: pki.caCertPem, userAgent: 'balancer-test' };
  }

  async function balanced(seed: string, opts: { stateFile?: string; probeIntervalMs?: number; probeTimeoutMs?: number } = {}): Promise<{ balancer: ServerBalancer; client: ApiClient }> {
    const balancer = await ServerBalancer.open({ seed, identity: identity(seed), stateFile: opts.stateFile, probeIntervalMs: opts.probeIntervalMs ?? 60_000, probeTimeoutMs: opts.probeTimeoutMs, refreshMs: 60_000 });
    const client = new ApiClient({ ...identity(seed), balancer }, { requestTimeoutMs: 30_000 });
    cleanups.push(() => client.close(), () => balancer.stop());
    return { balancer, client };
  }

  const answeredBy = async (client: ApiClient): Promise<string> => ((await client.get(CM, 'default', 'x')) as { data?: { server?: string } }).data?.server ?? '';

  it('learns the servers from Endpoints and remembers them on disk', async () => {
    const [a, b, c] = await three();
    const file = join(dir, 'learn', 'servers.json');
    const { balancer } = await balanced(a!.url, { stateFile: file });
    balancer.start();
    await pollUntil('three servers known', () => balancer.servers().length === 3, { timeoutMs: 10_000, everyMs: 50 });
    await balancer.flushed();
    const saved = JSON.parse(await readFile(file, 'utf8')) as { servers: string[] };
    assert.deepEqual(saved.servers, [a!.url, b!.url, c!.url]);
    assert.equal(balancer.current(), a!.url);
  });

  it('a request whose current server was closed succeeds on the next one, without waiting for a probe', async () => {
    const [a, b] = await three();
    const { balancer, client } = await balanced(a!.url);
    balancer.start();
    await pollUntil('three servers known', () => balancer.servers().length === 3, { timeoutMs: 10_000, everyMs: 50 });
    assert.equal(await answeredBy(client), 'a');
    await a!.close();
    const seenBefore = b!.seen.length;
    assert.equal(await answeredBy(client), 'b');
    assert.ok(b!.seen.length > seenBefore);
    // The next one finds nobody at A's address (the pooled socket was gone): A is down, B current.
    assert.equal(await answeredBy(client), 'b');
    assert.equal(balancer.servers().find((s) => s.url === a!.url)?.up, false);
    assert.equal(balancer.current(), b!.url);
  });

  it('starts from the remembered servers and skips one whose TLS handshake fails', async () => {
    const [, b] = await three();
    // A server at 127.0.5.4 whose certificate comes from another CA.
    const other = await ensurePki(join(dir, 'other-ca'), { sans: ['127.0.5.4'] });
    const stranger = await startFake('stranger', '127.0.5.4', { certPem: other.serverCertPem, keyPem: other.serverKeyPem }, () => fakes);
    cleanups.push(() => stranger.close());
    const file = join(dir, 'remembered', 'servers.json');
    await rm(join(dir, 'remembered'), { recursive: true, force: true });
    await mkdir(join(dir, 'remembered'));
    await writeFile(file, JSON.stringify({ servers: [stranger.url, b!.url] }));
    const { balancer, client } = await balanced(stranger.url, { stateFile: file });
    assert.deepEqual(balancer.servers().map((s) => s.url), [stranger.url, b!.url]);
    assert.equal(await answeredBy(client), 'b');
    assert.equal(stranger.seen.length, 0, 'nothing reached the server with the wrong certificate');
  });

  it('a server that accepts connections but never finishes the TLS handshake is skipped after the handshake deadline', async () => {
    const [, b] = await three();
    // Accepts TCP and then says nothing, like a paused process whose kernel still completes connects.
    const mute = createNetServer((sock) => { sock.on('error', () => undefined); });
    const held: Socket[] = [];
    mute.on('connection', (sock) => held.push(sock));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.5.4', resolve));
    cleanups.push(() => new Promise<void>((resolve) => { for (const x of held) x.destroy(); mute.close(() => resolve()); }));
    const muteUrl = `https://127.0.5.4:${(mute.address() as { port: number }).port}`;
    const file = join(dir, 'mute', 'servers.json');
    await mkdir(join(dir, 'mute'), { recursive: true });
    await writeFile(file, JSON.stringify({ servers: [muteUrl, b!.url] }));
    const { balancer, client } = await balanced(muteUrl, { stateFile: file });
    assert.equal(await answeredBy(client), 'b');
    assert.equal(balancer.servers().find((x) => x.url === muteUrl)?.up, false);
    assert.ok(held.length >= 1, 'the client did connect to the mute server first');
  });

  it('a hung server: the probes mark it down, its sockets are destroyed, a stuck write fails, a stuck read is answered elsewhere', async () => {
    const [a] = await three();
    const { balancer, client } = await balanced(a!.url, { probeIntervalMs: 300, probeTimeoutMs: 1000 });
    balancer.start();
    await pollUntil('three servers known', () => balancer.servers().length === 3, { timeoutMs: 10_000, everyMs: 50 });
    assert.equal(await answeredBy(client), 'a'); // a keep-alive socket to a now exists
    a!.mode = 'hang';
    // Both are sent to A and get no answer; the request timeout (30 s) is not what ends them.
    const stuckRead = answeredBy(client);
    const stuckWrite = client.create(CM, 'default', { metadata: { name: 'y' } }).then(() => 'answered', (e: unknown) => e);
    const write = await stuckWrite;
    assert.ok(isTriremeError(write, 'ServiceUnavailable'), `the write on the destroyed socket failed: ${String(write)}`);
    assert.equal(a!.seen.filter((x) => x.startsWith('POST')).length, 1, 'the write reached A');
    // A read on a socket that died unanswered is safe to send again: another server answers it.
    const read = await stuckRead.catch((e: unknown) => `failed: ${String(e)}; servers ${JSON.stringify(balancer.servers())}; seen ${JSON.stringify(fakes.map((f) => f.seen))}`);
    assert.ok(read === 'b' || read === 'c', read);
    assert.equal(balancer.servers().find((x) => x.url === a!.url)?.up, false);
    assert.notEqual(await answeredBy(client), 'a');
  });

  it('a request that failed after it was sent is surfaced, not sent again elsewhere', async () => {
    const [a, b, c] = await three();
    const { balancer, client } = await balanced(a!.url);
    balancer.start();
    await pollUntil('three servers known', () => balancer.servers().length === 3, { timeoutMs: 10_000, everyMs: 50 });
    a!.mode = 'reset';
    await assert.rejects(client.create(CM, 'default', { metadata: { name: 'y' } }), (e) => isTriremeError(e, 'ServiceUnavailable'));
    assert.equal(a!.seen.filter((s) => s.startsWith('POST')).length, 1);
    assert.equal(b!.seen.filter((s) => s.startsWith('POST')).length + c!.seen.filter((s) => s.startsWith('POST')).length, 0);
  });

  it('without a balancer, a client of one closed server fails with ServiceUnavailable as before', async () => {
    const [a] = await three();
    const url = a!.url;
    await a!.close();
    const client = new ApiClient(identity(url));
    cleanups.push(() => client.close());
    await assert.rejects(client.get(CM, 'default', 'x'), (e) => isTriremeError(e, 'ServiceUnavailable') && /cannot connect/.test(e.message));
  });
});
