import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { respond, type Responder } from '../../src/dns/respond.js';
import { buildSnapshot } from '../../src/dns/snapshot.js';
import { Deframer, frame } from '../../src/dns/tcp-framing.js';

const snap = buildSnapshot({ services: [{ metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '127.24.0.20' } }], endpoints: [], pods: [] }, 1);
const forwarded: Buffer[] = [];
const r: Responder = {
  snapshot: () => snap, zone: { domain: 'cluster.local', ttl: 5 },
  upstream: { forward: async (q) => { forwarded.push(q); return undefined; } },
};
const query = (over: Partial<dnsPacket.Packet> = {}): Buffer =>
  dnsPacket.encode({ id: 4242, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }], ...over });
const rcodeOf = (b: Buffer): number => b.readUInt16BE(2) & 0xf;

describe('respond: one message in, one out', () => {
  it('answers with the id, the question, QR AA RD RA', async () => {
    const out = dnsPacket.decode((await respond(query(), 'udp', r))!);
    assert.equal(out.id, 4242);
    assert.equal(out.flag_qr && out.flag_aa && out.flag_rd && out.flag_ra, true);
    assert.deepEqual(out.questions, [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }]);
    assert.equal((out.answers?.[0] as { data: string }).data, '127.24.0.20');
  });

  it('drops what is too short for a header or is itself a reply', async () => {
    assert.equal(await respond(Buffer.alloc(5), 'udp', r), undefined);
    assert.equal(await respond(dnsPacket.encode({ id: 1, type: 'response', questions: [] }), 'udp', r), undefined);
  });

  it('FORMERR for an undecodable message and for other than one question; NOTIMP for other opcodes', async () => {
    const junk = Buffer.concat([query().subarray(0, 12), Buffer.from([0x3f, 1, 2])]);
    const a = (await respond(junk, 'udp', r))!;
    assert.equal(a.readUInt16BE(0), 4242);
    assert.equal(rcodeOf(a), 1);
    assert.equal(rcodeOf((await respond(query({ questions: [] }), 'udp', r))!), 1);
    const two = query({ questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
    assert.equal(rcodeOf((await respond(two, 'udp', r))!), 1);
    const notify = query({ flags: 4 << 11 });
    assert.equal(rcodeOf((await respond(notify, 'udp', r))!), 4);
  });

  it('an outside name goes upstream as sent; no upstream answer is SERVFAIL', async () => {
    const q = query({ questions: [{ name: 'example.org', type: 'A', class: 'IN' }] });
    const out = (await respond(q, 'tcp', r))!;
    assert.deepEqual(forwarded.at(-1), q);
    assert.equal(rcodeOf(out), 2);
    assert.equal(out.readUInt16BE(0), 4242);
  });

  it('an EDNS query gets an OPT back', async () => {
    const q = query({ additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] });
    const out = dnsPacket.decode((await respond(q, 'udp', r))!);
    assert.equal(out.additionals?.find((a) => a.type === 'OPT')?.type, 'OPT');
  });
});

describe('TCP framing', () => {
  it('messages come out whole whatever the chunking', () => {
    const msgs = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(300, 7)];
    const wire = Buffer.concat(msgs.map(frame));
    for (const size of [1, 2, 3, 7, wire.length]) {
      const d = new Deframer();
      const got: Buffer[] = [];
      for (let i = 0; i < wire.length; i += size) got.push(...d.push(wire.subarray(i, i + size)));
      assert.deepEqual(got, msgs, `chunks of ${size}`);
    }
  });
});
