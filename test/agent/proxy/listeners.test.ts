// The proxy's TCP and UDP listeners on real loopback sockets (no API): balancing, connect
// failover, refusal without backends, bind-as-lock between two listeners, UDP flows.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { DEFAULT_LISTENER_OPTIONS, type ListenerOptions, type ProxyListener } from '../../../src/agent/proxy/listener.js';
import { listenerKey, type Backend, type ListenerSpec, type ProxyProtocol } from '../../../src/agent/proxy/table.js';
import { TcpListener } from '../../../src/agent/proxy/tcp.js';
import { UdpListener } from '../../../src/agent/proxy/udp.js';
import { systemClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';

const opts: ListenerOptions = { ...DEFAULT_LISTENER_OPTIONS, clock: systemClock, logger: silentLogger };
const toClose: { close(): unknown }[] = [];
after(async () => {
  for (const c of toClose) await c.close();
});

function spec(protocol: ProxyProtocol, ip: string, port: number, backends: Backend[], extra: Partial<ListenerSpec> = {}): ListenerSpec {
  return { key: listenerKey(protocol, ip, port), protocol, ip, port, service: 'ns/t', portName: '', scope: 'cluster', backends, ...extra };
}
const be = (ip: string, port: number): Backend => ({ ip, port, key: `${ip}:${port}` });

/** A TCP server answering each connection with its name and closing. */
async function nameServer(host: string, name: string): Promise<net.Server & { port: number }> {
  const s = net.createServer((c) => {
    c.on('error', () => c.destroy());
    c.end(name);
  });
  await new Promise<void>((r) => s.listen(0, host, r));
  toClose.push(s);
  return Object.assign(s, { port: (s.address() as net.AddressInfo).port });
}

function tcpGet(host: string, port: number, send?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host, port });
    let out = '';
    c.on('data', (d: Buffer) => (out += d.toString()));
    c.on('end', () => resolve(out));
    c.on('error', reject);
    if (send !== undefined) c.end(send);
  });
}

async function open(l: ProxyListener): Promise<ProxyListener> {
  assert.equal(await l.bind(), 'bound');
  toClose.push(l);
  return l;
}

function udpEcho(host: string, name: string): Promise<dgram.Socket & { port: number }> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from(`${name}:`), m]), r.port, r.address));
    s.bind(0, host, () => {
      toClose.push(s);
      resolve(Object.assign(s, { port: s.address().port }));
    });
  });
}

/** One UDP client socket; `ask` sends and waits for one reply. */
async function udpClient(host = '127.0.23.60'): Promise<{ ask(ip: string, port: number, msg: string, timeoutMs?: number): Promise<string | undefined>; close(): void }> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, host, r));
  toClose.push({ close: () => s.close() });
  return {
    ask: (ip, port, msg, timeoutMs = 2000) => new Promise((resolve) => {
      const t = setTimeout(() => { s.removeListener('message', on); resolve(undefined); }, timeoutMs);
      const on = (m: Buffer): void => { clearTimeout(t); s.removeListener('message', on); resolve(m.toString()); };
      s.on('message', on);
      s.send(msg, port, ip);
    }),
    close: () => s.close(),
  };
}

describe('proxy TCP listener', () => {
  it('balances round-robin, passes bytes both ways with half-close', async () => {
    const a = await nameServer('127.0.23.50', 'a');
    const b = await nameServer('127.0.23.51', 'b');
    await open(new TcpListener(spec('TCP', '127.23.0.201', 8080, [be('127.0.23.50', a.port), be('127.0.23.51', b.port)]), opts));
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await tcpGet('127.23.0.201', 8080));
    assert.deepEqual(got, ['a', 'b', 'a', 'b']);

    // An echo backend that answers only after the client's FIN: half-close goes through.
    const echo = net.createServer({ allowHalfOpen: true }, (c) => {
      const parts: Buffer[] = [];
      c.on('data', (d: Buffer) => parts.push(d));
      c.on('end', () => c.end(Buffer.concat(parts).toString().toUpperCase()));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.23.52', r));
    toClose.push(echo);
    await open(new TcpListener(spec('TCP', '127.23.0.201', 8081, [be('127.0.23.52', (echo.address() as net.AddressInfo).port)]), opts));
    assert.equal(await tcpGet('127.23.0.201', 8081, 'x'.repeat(200_000)), 'X'.repeat(200_000));
  });

  it('a backend that refuses is skipped: every connection still reaches a live one', async () => {
    const a = await nameServer('127.0.23.53', 'a');
    const dead = await nameServer('127.0.23.54', 'dead');
    await new Promise<void>((r) => dead.close(() => r()));
    await open(new TcpListener(spec('TCP', '127.23.0.202', 8080, [be('127.0.23.53', a.port), be('127.0.23.54', dead.port)]), opts));
    for (let i = 0; i < 6; i++) assert.equal(await tcpGet('127.23.0.202', 8080), 'a');
  });

  it('no backend (none listed, or every one refuses): the client is reset', async () => {
    await open(new TcpListener(spec('TCP', '127.23.0.203', 8080, []), opts));
    await assert.rejects(tcpGet('127.23.0.203', 8080), /ECONNRESET/);
    const dead = await nameServer('127.0.23.55', 'dead');
    await new Promise<void>((r) => dead.close(() => r()));
    await open(new TcpListener(spec('TCP', '127.23.0.203', 8081, [be('127.0.23.55', dead.port)]), opts));
    await assert.rejects(tcpGet('127.23.0.203', 8081), /ECONNRESET/);
  });

  it('update swaps backends without closing the listener', async () => {
    const a = await nameServer('127.0.23.56', 'a');
    const b = await nameServer('127.0.23.57', 'b');
    const s = spec('TCP', '127.23.0.204', 8080, [be('127.0.23.56', a.port)]);
    const l = await open(new TcpListener(s, opts));
    assert.equal(await tcpGet('127.23.0.204', 8080), 'a');
    l.update({ ...s, backends: [be('127.0.23.57', b.port)] });
    assert.equal(await tcpGet('127.23.0.204', 8080), 'b');
  });

  it('the bind is the lock: a second listener is busy until the first closes; close ends connections', async () => {
    const a = await nameServer('127.0.23.58', 'a');
    const hold = net.createServer((c) => c.on('error', () => undefined));
    await new Promise<void>((r) => hold.listen(0, '127.0.23.58', r));
    toClose.push(hold);
    const s = spec('TCP', '127.23.0.205', 8080, [be('127.0.23.58', (hold.address() as net.AddressInfo).port)]);
    const first = await open(new TcpListener(s, opts));
    const second = new TcpListener(s, opts);
    toClose.push(second);
    assert.equal(await second.bind(), 'busy');
    const c = net.connect({ host: '127.23.0.205', port: 8080 });
    await new Promise<void>((r) => c.once('connect', r));
    await new Promise((r) => setTimeout(r, 50));
    const ended = new Promise<void>((r) => c.once('close', () => r()));
    c.on('error', () => undefined);
    await first.close();
    await ended;
    assert.equal(await second.bind(), 'bound');
    second.update({ ...s, backends: [be('127.0.23.58', a.port)] });
    assert.equal(await tcpGet('127.23.0.205', 8080), 'a');
  });

  it('ClientIP affinity: one client address keeps its backend', async () => {
    const a = await nameServer('127.0.23.59', 'a');
    const b = await nameServer('127.0.23.61', 'b');
    await open(new TcpListener(spec('TCP', '127.23.0.206', 8080, [be('127.0.23.59', a.port), be('127.0.23.61', b.port)], { affinity: { timeoutMs: 60_000 } }), opts));
    const got = new Set<string>();
    for (let i = 0; i < 5; i++) got.add(await tcpGet('127.23.0.206', 8080));
    assert.equal(got.size, 1);
  });
});

describe('proxy UDP listener', () => {
  it('relays datagrams and replies per client, balancing new clients', async () => {
    const a = await udpEcho('127.0.23.62', 'a');
    const b = await udpEcho('127.0.23.63', 'b');
    await open(new UdpListener(spec('UDP', '127.23.0.207', 5353, [be('127.0.23.62', a.port), be('127.0.23.63', b.port)]), opts));
    const c1 = await udpClient();
    const c2 = await udpClient();
    const r1 = await c1.ask('127.23.0.207', 5353, 'hello');
    const r2 = await c2.ask('127.23.0.207', 5353, 'hello');
    assert.deepEqual(new Set([r1, r2]), new Set(['a:hello', 'b:hello']));
    assert.equal(await c1.ask('127.23.0.207', 5353, 'again'), `${r1?.split(':')[0]}:again`, 'one client stays on its flow');
  });

  it('a backend with nobody listening: the flow moves on and the datagram is re-sent once', async () => {
    const a = await udpEcho('127.0.23.64', 'a');
    const gone = await udpEcho('127.0.23.65', 'gone');
    const gonePort = gone.port;
    toClose.splice(toClose.indexOf(gone), 1);
    gone.close();
    // The dead backend first in the list, so a new flow tries it first.
    await open(new UdpListener(spec('UDP', '127.23.0.208', 5353, [be('127.0.23.65', gonePort), be('127.0.23.64', a.port)]), opts));
    for (let i = 0; i < 3; i++) {
      const c = await udpClient();
      assert.equal(await c.ask('127.23.0.208', 5353, `q${i}`), `a:q${i}`);
    }
  });

  it('idle flows are swept; flows to a backend that left are closed; exclusive bind', async () => {
    const a = await udpEcho('127.0.23.66', 'a');
    const b = await udpEcho('127.0.23.67', 'b');
    const s = spec('UDP', '127.23.0.209', 5353, [be('127.0.23.66', a.port)]);
    const l = new UdpListener(s, { ...opts, udpIdleMs: 1000 });
    await open(l);
    const second = new UdpListener(s, opts);
    assert.equal(await second.bind(), 'busy');
    const c = await udpClient();
    assert.equal(await c.ask('127.23.0.209', 5353, 'x'), 'a:x');
    assert.equal(l.flowCount, 1);
    l.sweep(Date.now() + 500);
    assert.equal(l.flowCount, 1);
    l.sweep(Date.now() + 1000);
    assert.equal(l.flowCount, 0);
    assert.equal(await c.ask('127.23.0.209', 5353, 'y'), 'a:y');
    l.update({ ...s, backends: [be('127.0.23.67', b.port)] });
    assert.equal(l.flowCount, 0);
    assert.equal(await c.ask('127.23.0.209', 5353, 'z'), 'b:z');
  });
});
