// Endpoint liveness of the kernel data plane: the /proc/net/tcp parser (pure), and checks of real
// loopback listeners on 127.0.47.1 — through /proc/net/tcp, and by connect when it is not
// readable — opened, closed and opened again; a process's death seen through the idle watching
// connection with no round run (fake clock), and an application closing that connection.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { EndpointLiveness, listens, tcpListeners } from '../../../src/agent/proxy/liveness.js';
import { FakeClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { pollUntil } from '../../../src/util/poll.js';

const IP = '127.0.47.1';

const PROC_TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0',
  '   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0 20 4 30 10 -1',
  '   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1003 1 0 100 0 0 10 0',
].join('\n');

describe('tcpListeners', () => {
  it('keeps LISTEN sockets only, by address and port', () => {
    assert.deepEqual([...tcpListeners(PROC_TCP)].sort(), ['0.0.0.0:80', '127.0.0.1:8080']);
  });
  it('a wildcard listener serves every address of its port', () => {
    const l = tcpListeners(PROC_TCP);
    assert.ok(listens(l, '127.0.0.1', 8080));
    assert.ok(!listens(l, '127.0.0.1', 8081), 'an established socket is no listener');
    assert.ok(listens(l, '127.0.30.9', 80));
  });
});

function listen(port = 0, onConnection: (c: net.Socket) => void = (c) => c.end()): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer(onConnection);
    s.once('error', reject);
    s.listen(port, IP, () => resolve(s));
  });
}
const close = (s: net.Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

/** A listener that keeps the set of its open connections (the liveness watcher's among them). */
async function trackedServer(): Promise<{ server: net.Server; conns: Set<net.Socket>; port: number }> {
  const conns = new Set<net.Socket>();
  const server = await listen(0, (c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
  });
  return { server, conns, port: (server.address() as net.AddressInfo).port };
}

async function lifecycle(liveness: EndpointLiveness, check: () => Promise<void>, changes: () => number): Promise<void> {
  const server = await listen();
  const port = (server.address() as net.AddressInfo).port;
  const key = `TCP/${IP}:${port}`;
  liveness.setTargets([{ ip: IP, port }]);
  await check();
  assert.deepEqual([...liveness.dead()], [], 'a listening endpoint is live');
  assert.equal(changes(), 0);
  await close(server);
  await check();
  assert.deepEqual([...liveness.dead()], [key], 'a closed endpoint is dead');
  assert.equal(changes(), 1);
  await check();
  assert.equal(changes(), 1, 'no change, no callback');
  const again = await listen(port);
  try {
    await check();
    assert.deepEqual([...liveness.dead()], [], 'live again once it listens');
    assert.equal(changes(), 2);
    await close(again);
    await check();
    liveness.setTargets([]);
    assert.deepEqual([...liveness.dead()], [], 'a forgotten target leaves the dead set');
  } finally {
    if (again.listening) await close(again);
  }
}

describe('EndpointLiveness on real loopback listeners', () => {
  it('loopback endpoints are judged from /proc/net/tcp', async () => {
    let n = 0;
    const liveness = new EndpointLiveness({ clock: new FakeClock(0), logger: silentLogger, onChange: () => n++ });
    await lifecycle(liveness, async () => liveness.localRound(), () => n);
  });

  it('without /proc/net/tcp, loopback endpoints are connected to instead', async () => {
    let n = 0;
    const liveness = new EndpointLiveness({ clock: new FakeClock(0), logger: silentLogger, onChange: () => n++, readProcTcp: () => undefined });
    await lifecycle(liveness, () => liveness.remoteRound(), () => n);
  });

  it('the local round runs on its own short period (fake clock)', async () => {
    const clock = new FakeClock(0);
    const server = await listen();
    const port = (server.address() as net.AddressInfo).port;
    let n = 0;
    const liveness = new EndpointLiveness({ clock, logger: silentLogger, onChange: () => n++, localIntervalMs: 40, intervalMs: 150 });
    liveness.setTargets([{ ip: IP, port }]);
    liveness.start();
    try {
      await close(server);
      clock.advance(39);
      assert.equal(n, 0);
      clock.advance(1);
      assert.equal(n, 1, 'dead at the first local round, 40 ms in');
    } finally {
      liveness.stop();
    }
    assert.equal(clock.pending(), 0, 'stop() leaves no timer');
  });

  it('a death is seen through the watching connection at once, with no round (fake clock)', async () => {
    const { server, conns, port } = await trackedServer();
    let n = 0;
    const clock = new FakeClock(0);
    const liveness = new EndpointLiveness({ clock, logger: silentLogger, onChange: () => n++ });
    liveness.setTargets([{ ip: IP, port }]);
    liveness.start();
    try {
      await pollUntil('the watching connection', () => conns.size === 1 || undefined, { timeoutMs: 5_000, everyMs: 5 });
      assert.equal(liveness.watching(), 1);
      // What a killed process's exit does: the listener and its connections close together.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of conns) c.destroy();
      });
      await pollUntil('the endpoint dead', () => liveness.dead().size === 1 || undefined, { timeoutMs: 5_000, everyMs: 5 });
      assert.equal(n, 1);
      assert.equal(liveness.watching(), 0, 'a dead endpoint is not watched');
    } finally {
      liveness.stop();
      if (server.listening) await close(server);
    }
  });

  it('an application closing the idle connection: still live, and watched again', async () => {
    const { server, conns, port } = await trackedServer();
    let n = 0;
    const liveness = new EndpointLiveness({ clock: new FakeClock(0), logger: silentLogger, onChange: () => n++ });
    liveness.setTargets([{ ip: IP, port }]);
    liveness.start();
    try {
      await pollUntil('the watching connection', () => conns.size === 1 || undefined, { timeoutMs: 5_000, everyMs: 5 });
      const first = [...conns][0];
      first?.destroy();
      await pollUntil('a new watching connection', () => (conns.size === 1 && !conns.has(first as net.Socket)) || undefined, { timeoutMs: 5_000, everyMs: 5 });
      assert.deepEqual([...liveness.dead()], []);
      assert.equal(n, 0);
    } finally {
      liveness.stop();
      for (const c of conns) c.destroy();
      await close(server);
    }
  });
});
