// The TCP balancer on real sockets (127.0.6.x): echo backends tagged with their name, checks
// injected so the test decides health. Bytes pass both ways; a dead backend costs no client
// byte (the connect is retried on the next one); a backend that checks take down has its
// sessions cut; counts per backend; graceful stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { parseServerUrls } from '../../src/lb/endpoints.js';
import { startTcpBalancer, type RunningBalancer } from '../../src/lb/tcp-balancer.js';
import { freePort } from '../../src/util/free-port.js';
import { silentLogger } from '../../src/util/log.js';
import { pollUntil } from '../../src/util/poll.js';

/** A backend that answers each chunk with `<name>:<chunk>`. */
async function echo(host: string, name: string): Promise<{ server: net.Server; port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
  });
  server.listen(0, host);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** Connects, writes `msg` at once (before any backend could be connected), reads one answer. */
async function roundTrip(lb: RunningBalancer, msg: string): Promise<{ answer: string; socket: net.Socket }> {
  const socket = net.connect(lb.port, lb.host);
  socket.write(msg);
  const [data] = (await once(socket, 'data')) as [Buffer];
  return { answer: data.toString(), socket };
}

function closed(s: net.Socket): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

test('tcp balancer: passthrough, retry past a dead backend, shutdown-sessions, counts, graceful stop', { timeout: 60_000 }, async (t) => {
  const a = await echo('127.0.6.1', 'a');
  const b = await echo('127.0.6.2', 'b');
  const deadPort = await freePort('127.0.6.3'); // nothing listens there
  const health = new Map<string, string | undefined>([['api1', undefined], ['api2', undefined], ['api3', undefined]]);
  const backends = parseServerUrls([`https://127.0.6.3:${deadPort}`, `https://127.0.6.1:${a.port}`, `https://127.0.6.2:${b.port}`]);
  // api1 is the dead one: its check passes (a stale "up"), so only the connect can find out.
  const lb = await startTcpBalancer({
    listen: { host: '127.0.6.9', port: 0 }, backends, logger: silentLogger, checkIntervalMs: 50, connectTimeoutMs: 1000,
    check: async (be) => health.get(be.name),
  });
  const clients: net.Socket[] = [];
  t.after(async () => {
    for (const c of clients) c.destroy();
    await lb.stop(100);
    a.server.close();
    b.server.close();
  });
  await lb.firstChecks(5000);
  assert.deepEqual(lb.stats().map((s) => s.state), ['up', 'up', 'up']);

  // The first client is sent to the dead backend first (round-robin starts there) and gets its
  // answer from a live one, its first bytes intact.
  const first = await roundTrip(lb, 'hello');
  clients.push(first.socket);
  assert.match(first.answer, /^[ab]:hello$/);
  let st = lb.stats();
  assert.equal(st[0]!.state, 'down', 'the dead backend is marked down by the failed connect');
  assert.equal(st[0]!.connectFailures, 1);
  assert.equal(st[0]!.active, 0);

  // More clients spread over the two live ones (fewest connections first).
  for (let i = 0; i < 3; i++) {
    const r = await roundTrip(lb, `m${i}`);
    clients.push(r.socket);
    assert.match(r.answer, new RegExp(`^[ab]:m${i}$`));
  }
  st = lb.stats();
  assert.equal(st[1]!.active + st[2]!.active, 4);
  assert.equal(st[1]!.active, 2);
  assert.equal(st[2]!.active, 2);
  assert.equal(st[1]!.total + st[2]!.total, 4);

  // A session carries many round trips, both ways.
  const s0 = clients[0]!;
  s0.write('again');
  const [again] = (await once(s0, 'data')) as [Buffer];
  assert.equal(again.toString(), `${first.answer.slice(0, 1)}:again`);

  // Checks take "a" (api2) down: its sessions are cut, the others stay, new clients go to "b".
  const onA = clients.filter((_c, i) => i < 4).length;
  assert.equal(onA, 4);
  health.set('api2', 'GET /readyz answered 503');
  await pollUntil('api2 down', () => lb.stats()[1]!.state === 'down', { timeoutMs: 5000 });
  await pollUntil('api2 sessions cut', () => lb.stats()[1]!.active === 0 && a.sockets.size === 0, { timeoutMs: 5000 });
  assert.equal(lb.stats()[2]!.active, 2, 'sessions on the healthy backend are untouched');
  const afterCut = await roundTrip(lb, 'later');
  clients.push(afterCut.socket);
  assert.equal(afterCut.answer, 'b:later');

  // Graceful stop: no new connections; a session that ends within the grace ends cleanly,
  // the rest are cut when it runs out.
  const live = clients.filter((c) => !c.destroyed);
  assert.equal(live.length, 3);
  const stopped = lb.stop(1500);
  await pollUntil('listener closed', async () => {
    const c = net.connect(lb.port, lb.host);
    const r = await Promise.race([once(c, 'error').then(() => 'refused'), once(c, 'connect').then(() => 'accepted')]);
    c.destroy();
    return r === 'refused';
  }, { timeoutMs: 5000 });
  live[0]!.write('during-stop');
  const [during] = (await once(live[0]!, 'data')) as [Buffer];
  assert.equal(during.toString(), 'b:during-stop', 'sessions keep working during the grace period');
  live[0]!.end();
  await stopped;
  await Promise.all(live.map(closed));
  assert.equal(b.sockets.size, 0);
  assert.deepEqual(lb.stats().map((s) => s.active), [0, 0, 0]);
});
