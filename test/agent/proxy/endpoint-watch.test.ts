// The idle watching connections of the kernel plane's liveness: an application that closes every
// connection at once is re-watched at most FLAP_LIMIT times per window (no connect loop), and
// as often again once the window has passed (fake clock); unwatch reports nothing. Real sockets on 127.0.47.2.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { EndpointWatchers, FLAP_LIMIT, FLAP_WINDOW_MS } from '../../../src/agent/proxy/endpoint-watch.js';
import { FakeClock } from '../../../src/util/clock.js';
import { pollUntil } from '../../../src/util/poll.js';

const IP = '127.0.47.2';

describe('EndpointWatchers', () => {
  it('a connection closed at once is watched again at most FLAP_LIMIT times per window', async () => {
    let accepted = 0;
    const server = net.createServer((c) => {
      accepted++;
      c.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, IP, resolve));
    const port = (server.address() as net.AddressInfo).port;
    const clock = new FakeClock(0);
    const closed: string[] = [];
    const w: EndpointWatchers = new EndpointWatchers({ clock, onClosed: (key) => { closed.push(key); w.watch(key, { ip: IP, port }); } });
    try {
      w.watch('k', { ip: IP, port });
      await pollUntil('the flap limit', () => closed.length === FLAP_LIMIT || undefined, { timeoutMs: 5_000, everyMs: 5 });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(closed.length, FLAP_LIMIT, 'no more watching within the window');
      assert.equal(w.watching(), 0);
      assert.equal(accepted, FLAP_LIMIT);
      clock.advance(FLAP_WINDOW_MS);
      w.watch('k', { ip: IP, port });
      await pollUntil('the flap limit again after the window', () => closed.length === 2 * FLAP_LIMIT || undefined, { timeoutMs: 5_000, everyMs: 1 });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(closed.length, 2 * FLAP_LIMIT);
    } finally {
      w.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('unwatch and stop report nothing', async () => {
    const conns = new Set<net.Socket>();
    const server = net.createServer((c) => conns.add(c));
    await new Promise<void>((resolve) => server.listen(0, IP, resolve));
    const port = (server.address() as net.AddressInfo).port;
    const closed: string[] = [];
    const w = new EndpointWatchers({ clock: new FakeClock(0), onClosed: (key) => closed.push(key) });
    try {
      w.watch('a', { ip: IP, port });
      w.watch('a', { ip: IP, port });
      w.watch('b', { ip: IP, port });
      await pollUntil('two connections', () => conns.size === 2 || undefined, { timeoutMs: 5_000, everyMs: 5 });
      w.unwatch('a');
      w.retain(new Set(['b']));
      assert.equal(w.watching(), 1);
      w.stop();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(closed, []);
      assert.equal(w.watching(), 0);
    } finally {
      for (const c of conns) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
