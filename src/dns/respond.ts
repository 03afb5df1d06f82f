// One DNS message in, one out: decodes a query (dns-packet), asks answer.ts, encodes the reply,
// or relays the query upstream. Guarantees: every well-formed query gets exactly one reply with
// its id and question; an undecodable message with a header gets FORMERR, a message too short
// for a header is dropped; opcodes other than QUERY get NOTIMP; a query with other than one
// question gets FORMERR; upstream failure or timeout (no answer from any upstream) is SERVFAIL.
// A UDP reply over the client's limit (512 bytes, or its EDNS payload size up to 4096) is sent
// truncated (TC set, no records) so the client retries over TCP. Our own replies set RA (we
// recurse through the upstreams) and AA inside the zone. Does not: cache upstream answers.
import dnsPacket, { type Answer as Rr, type DecodedPacket, type OptAnswer, type Packet } from 'dns-packet';
import { answer, type ZoneConfig } from './answer.js';
import type { DnsSnapshot } from './snapshot.js';

export type Transport = 'udp' | 'tcp';

/** Relays a raw query to the upstream resolvers; undefined when none answered in time. */
export interface Upstream {
  forward(query: Buffer, transport: Transport): Promise<Buffer | undefined>;
}

export interface Responder {
  snapshot(): DnsSnapshot;
  zone: ZoneConfig;
  upstream: Upstream;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODE;
const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const EDNS_PAYLOAD = 1232;
const MAX_UDP = 4096;
const MIN_UDP = 512;

function opt(query: DecodedPacket | undefined): OptAnswer | undefined {
  return query?.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
}

/** The header-only reply to a query we cannot decode: same id, QR, the rcode. */
function bareReply(msg: Buffer, rcode: Rcode): Buffer {
  const out = Buffer.alloc(12);
  msg.copy(out, 0, 0, 2);
  const flags = msg.readUInt16BE(2);
  out.writeUInt16BE(QR | (flags & OPCODE_MASK) | (flags & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | RCODE[rcode], 2);
  return out;
}

function encodeReply(query: DecodedPacket, rcode: Rcode, body: { aa?: boolean; answers?: Rr[]; authorities?: Rr[]; additionals?: Rr[] }, transport: Transport): Buffer {
  const qopt = opt(query);
  const flags = (query.flags ?? 0) & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED);
  const edns: Rr[] = qopt ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  const packet: Packet = {
    id: query.id, type: 'response',
    flags: flags | dnsPacket.RECURSION_AVAILABLE | (body.aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | RCODE[rcode],
    questions: query.questions ?? [],
    answers: body.answers ?? [], authorities: body.authorities ?? [], additionals: [...(body.additionals ?? []), ...edns],
  };
  const buf = dnsPacket.encode(packet);
  if (transport === 'udp' && buf.length > udpLimit(query)) {
    return dnsPacket.encode({ ...packet, flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: edns });
  }
  return buf;
}

function udpLimit(query: DecodedPacket): number {
  const size = opt(query)?.udpPayloadSize;
  return size === undefined ? MIN_UDP : Math.min(Math.max(size, MIN_UDP), MAX_UDP);
}

/** The reply to one message, or undefined when it is to be dropped (too short, or itself a reply). */
export async function respond(msg: Buffer, transport: Transport, r: Responder): Promise<Buffer | undefined> {
  if (msg.length < 12) return undefined;
  if (msg.readUInt16BE(2) & QR) return undefined;
  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(msg);
  } catch {
    return bareReply(msg, 'FORMERR');
  }
  if (((query.flags ?? 0) & OPCODE_MASK) !== 0) return bareReply(msg, 'NOTIMP');
  const q = query.questions ?? [];
  if (q.length !== 1) return encodeReply(query, 'FORMERR', {}, transport);
  const d = answer(q[0]!, r.snapshot(), r.zone);
  if (d.kind === 'reply') {
    return encodeReply(query, d.rcode, { aa: d.authoritative, answers: d.answers, authorities: d.authorities, additionals: d.additionals }, transport);
  }
  if (d.kind === 'forward') {
    const up = await r.upstream.forward(msg, transport);
    return up ?? encodeReply(query, 'SERVFAIL', {}, transport);
  }
  // An ExternalName: our CNAME, then what upstream knows about its target.
  const sub = dnsPacket.encode({ id: query.id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: d.name, type: d.type, class: 'IN' }] });
  const up = await r.upstream.forward(sub, transport);
  let decoded: DecodedPacket | undefined;
  try {
    decoded = up ? dnsPacket.decode(up) : undefined;
  } catch {
    decoded = undefined;
  }
  if (!decoded) return encodeReply(query, 'SERVFAIL', { answers: d.answers }, transport);
  const rcode = ((decoded.flags ?? 0) & 0xf) === RCODE.NXDOMAIN ? 'NXDOMAIN' : 'NOERROR';
  return encodeReply(query, rcode, { answers: [...d.answers, ...(decoded.answers ?? [])], authorities: decoded.authorities ?? [] }, transport);
}
