// The DNS listeners: one UDP socket and one TCP server (RFC 1035 two-byte length framing, several
// queries per connection, replies as they are ready as RFC 7766 allows), both handing every
// message to respond.ts. Guarantees: `startDnsServer` resolves once both are bound (port 0: the
// OS chooses; the bound ports are returned); a failing query is logged and dropped, never
// crashing the server; idle TCP connections close after `tcpIdleMs`; `close()` stops both and
// drops open connections. Does not: rate-limit, or bound the number of queries in flight.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../util/log.js';
import { respond, type Responder } from './respond.js';
import { Deframer, frame } from './tcp-framing.js';
import type { HostPort } from './upstream.js';

export interface DnsServerOptions {
  udp: HostPort;
  /** Default: the UDP host and the port UDP was bound to (so `port 0` gives one port for both). */
  tcp?: HostPort;
  responder: Responder;
  logger: Logger;
  tcpIdleMs?: number;
}

export interface RunningDnsServer {
  udpPort: number;
  tcpPort: number;
  close(): Promise<void>;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<RunningDnsServer> {
  const log = opts.logger;
  const udp = dgram.createSocket({ type: net.isIPv6(opts.udp.host) ? 'udp6' : 'udp4' });
  udp.on('message', (msg, rinfo) => {
    respond(msg, 'udp', opts.responder).then((reply) => {
      if (reply) udp.send(reply, rinfo.port, rinfo.address, (err) => { if (err) log.debug({ err: err.message, to: rinfo.address }, 'cannot send a DNS reply'); });
    }, (err: unknown) => log.error({ err, from: rinfo.address }, 'DNS query failed'));
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(opts.udp.port, opts.udp.host, () => { udp.off('error', reject); resolve(); });
  });
  udp.on('error', (err) => log.error({ err }, 'DNS UDP socket error'));

  const conns = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    conns.add(sock);
    sock.setTimeout(opts.tcpIdleMs ?? 10_000, () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
    sock.on('error', (err) => log.debug({ err: err.message }, 'DNS TCP connection error'));
    const deframer = new Deframer();
    sock.on('data', (chunk: Buffer) => {
      for (const msg of deframer.push(chunk)) {
        respond(msg, 'tcp', opts.responder).then((reply) => {
          if (reply && !sock.destroyed) sock.write(frame(reply));
        }, (err: unknown) => log.error({ err }, 'DNS query failed'));
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      const at = opts.tcp ?? { host: opts.udp.host, port: udp.address().port };
      tcp.listen(at.port, at.host, () => { tcp.off('error', reject); resolve(); });
    });
  } catch (e) {
    udp.close();
    throw e;
  }
  tcp.on('error', (err) => log.error({ err }, 'DNS TCP server error'));

  return {
    udpPort: udp.address().port,
    tcpPort: (tcp.address() as net.AddressInfo).port,
    close: async () => {
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}
