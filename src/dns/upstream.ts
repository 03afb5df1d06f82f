// The resolvers names outside the cluster go to: the host's (`nameserver` lines of
// /etc/resolv.conf) or the ones given with `--upstream`. Guarantees: a query is relayed as is
// (EDNS and all) to one upstream at a time, in order, over the client's transport, under a fresh
// random id that is mapped back, so a reply always carries the client's id; a reply is taken only
// from the address asked and with the id sent; each upstream gets an equal share of `timeoutMs`,
// and when none answered within it the caller gets undefined (→ SERVFAIL). Does not: cache,
// race upstreams in parallel, or retry a UDP reply that came back truncated (the client does,
// over TCP, which is relayed over TCP).
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Transport, Upstream } from './respond.js';
import { Deframer, frame } from './tcp-framing.js';

export interface HostPort { host: string; port: number }

/** Nameservers of resolv.conf text, in order (port 53). */
export function parseResolvConf(text: string): HostPort[] {
  const out: HostPort[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    // A scoped IPv6 address (fe80::1%eth0) keeps its zone: dgram accepts it.
    if (m && net.isIP(m[1]!.split('%')[0]!) !== 0) out.push({ host: m[1]!, port: 53 });
  }
  return out;
}

/** `HOST`, `HOST:PORT` or `[V6]:PORT` → an upstream (port 53 by default); throws on anything else. */
export function parseUpstream(v: string): HostPort {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:]+)(?::(\d+))?$/.exec(v);
  const host = m?.[1] ?? (net.isIP(v) === 6 ? v : undefined);
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (host === undefined || net.isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`--upstream: expected IP, IP:PORT or [IPv6]:PORT, not ${JSON.stringify(v)}`);
  }
  return { host, port };
}

export class ForwardingUpstream implements Upstream {
  private readonly clock: Clock;

  constructor(private readonly servers: readonly HostPort[], private readonly timeoutMs: number, private readonly log: Logger, clock?: Clock) {
    this.clock = clock ?? systemClock;
  }

  async forward(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    if (query.length < 12 || this.servers.length === 0) return undefined;
    const share = Math.max(50, Math.floor(this.timeoutMs / this.servers.length));
    for (const s of this.servers) {
      const id = randomInt(0, 65536);
      const out = Buffer.from(query);
      out.writeUInt16BE(id, 0);
      try {
        const reply = await (transport === 'udp' ? this.udp(s, out, id, share) : this.tcp(s, out, id, share));
        reply.writeUInt16BE(query.readUInt16BE(0), 0);
        return reply;
      } catch (err) {
        this.log.debug({ upstream: `${s.host}:${s.port}`, transport, err: (err as Error).message }, 'upstream did not answer');
      }
    }
    this.log.warn({ upstreams: this.servers.map((s) => `${s.host}:${s.port}`), transport, timeoutMs: this.timeoutMs }, 'no upstream answered; SERVFAIL');
    return undefined;
  }

  private udp(s: HostPort, msg: Buffer, id: number, ms: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(net.isIPv6(s.host.split('%')[0]!) ? 'udp6' : 'udp4');
      const timer = this.clock.setTimeout(() => done(new Error(`no reply within ${ms} ms`)), ms);
      const done = (err: Error | undefined, buf?: Buffer): void => {
        this.clock.clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(buf!);
      };
      sock.on('error', (e) => done(e));
      sock.on('message', (buf, rinfo) => {
        if (rinfo.port !== s.port || (net.isIPv4(s.host) && rinfo.address !== s.host) || buf.length < 12 || buf.readUInt16BE(0) !== id) return; // not our reply
        done(undefined, buf);
      });
      sock.send(msg, s.port, s.host, (e) => { if (e) done(e); });
    });
  }

  private tcp(s: HostPort, msg: Buffer, id: number, ms: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: s.host, port: s.port });
      const deframer = new Deframer();
      let settled = false;
      const timer = this.clock.setTimeout(() => done(new Error(`no reply within ${ms} ms`)), ms);
      const done = (err: Error | undefined, buf?: Buffer): void => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(buf!);
      };
      sock.on('error', (e) => done(e));
      sock.on('close', () => done(new Error('connection closed before a reply')));
      sock.on('connect', () => sock.write(frame(msg)));
      sock.on('data', (chunk: Buffer) => {
        for (const reply of deframer.push(chunk)) {
          if (reply.length >= 12 && reply.readUInt16BE(0) === id) return done(undefined, reply);
        }
      });
    });
  }
}
