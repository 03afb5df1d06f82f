// The DNS listeners with real clients: node's resolver (c-ares) over UDP, `dig` over UDP and TCP,
// forwarding to an upstream (a second instance of our own server, serving another zone),
// SERVFAIL when the upstream is silent, and truncation to TCP for a large answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import { startDnsServer, type RunningDnsServer } from '../../src/dns/server.js';
import { ForwardingUpstream, parseResolvConf, parseUpstream } from '../../src/dns/upstream.js';
import { buildSnapshot, type DnsSnapshot } from '../../src/dns/snapshot.js';
import { parseServiceRange } from '../../src/api/service-range.js';
import { silentLogger } from '../../src/util/log.js';
import { deps, needs, pathOf } from '../helpers/require-dep.js';

const HOST = '127.0.24.1';
const UPSTREAM_HOST = '127.0.24.2';
const SILENT_HOST = '127.0.24.3';
const run = promisify(execFile);

const many: Endpoints = {
  metadata: { namespace: 'default', name: 'big' },
  subsets: Array.from({ length: 60 }, (_, i) => ({ addresses: [{ ip: `127.0.25.${i + 1}` }], ports: [{ name: 'p', port: 40000 + i }] })),
};
const services: Service[] = [
  { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '127.24.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
  { metadata: { namespace: 'default', name: 'big' }, spec: { clusterIP: 'None' } },
  { metadata: { namespace: 'default', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.test' } },
];
const snapshot: DnsSnapshot = buildSnapshot({ services, endpoints: [many], pods: [] }, 7);
// The "internet": our server again, serving example.test from another snapshot.
const upstreamSnap = buildSnapshot({ services: [{ metadata: { namespace: 'x', name: 'db' }, spec: { clusterIP: '10.9.9.9' } }], endpoints: [], pods: [] }, 1);

describe('the DNS server with real clients', () => {
  let dns: RunningDnsServer;
  let upstream: RunningDnsServer;
  let silentDns: RunningDnsServer;
  let silent: dgram.Socket;
  const resolver = new Resolver({ timeout: 2000, tries: 1 });

  before(async () => {
    // Names under svc.example.test: db.x.svc.example.test → 10.9.9.9; `db.example.test` is its ExternalName target below.
    upstream = await startDnsServer({
      udp: { host: UPSTREAM_HOST, port: 0 }, logger: silentLogger,
      responder: { snapshot: () => upstreamSnap, zone: { domain: 'example.test', ttl: 60 }, upstream: new ForwardingUpstream([], 100, silentLogger) },
    });
    dns = await startDnsServer({
      udp: { host: HOST, port: 0 }, logger: silentLogger,
      responder: {
        snapshot: () => snapshot, zone: { domain: 'cluster.local', ttl: 5, serviceRange: parseServiceRange('127.24.0.0/16') },
        upstream: new ForwardingUpstream([{ host: UPSTREAM_HOST, port: upstream.udpPort }], 1000, silentLogger),
      },
    });
    silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, SILENT_HOST, () => r()));
    silentDns = await startDnsServer({
      udp: { host: HOST, port: 0 }, logger: silentLogger,
      responder: { snapshot: () => snapshot, zone: { domain: 'cluster.local', ttl: 5 }, upstream: new ForwardingUpstream([{ host: SILENT_HOST, port: silent.address().port }], 300, silentLogger) },
    });
    resolver.setServers([`${HOST}:${dns.udpPort}`]);
  });

  after(async () => {
    await dns?.close();
    await upstream?.close();
    await silentDns?.close();
    silent?.close();
  });

  it('UDP and TCP share the bound port when --listen has port 0', () => {
    assert.equal(dns.udpPort, dns.tcpPort);
  });

  it('node\'s resolver: A, SRV, PTR; AAAA is ENODATA; a missing name is ENOTFOUND (NXDOMAIN)', async () => {
    assert.deepEqual(await resolver.resolve4('web.default.svc.cluster.local'), ['127.24.0.20']);
    assert.deepEqual(await resolver.resolve4('WEB.default.svc.cluster.local.'), ['127.24.0.20']);
    assert.deepEqual(await resolver.resolveSrv('_http._tcp.web.default.svc.cluster.local'), [{ name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
    assert.deepEqual(await resolver.reverse('127.24.0.20'), ['web.default.svc.cluster.local']);
    await assert.rejects(resolver.resolve6('web.default.svc.cluster.local'), { code: 'ENODATA' });
    await assert.rejects(resolver.resolve4('nope.default.svc.cluster.local'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.reverse('127.24.0.99'), { code: 'ENOTFOUND' });
  });

  it('forwards other names upstream, and chases an ExternalName there', async () => {
    assert.deepEqual(await resolver.resolve4('db.x.svc.example.test'), ['10.9.9.9']);
    await assert.rejects(resolver.resolve4('nope.x.svc.example.test'), { code: 'ENOTFOUND' });
    // ext → db.example.test, which upstream says does not exist: the CNAME, then NXDOMAIN.
    await assert.rejects(resolver.resolve4('ext.default.svc.cluster.local'), { code: 'ENOTFOUND' });
    assert.deepEqual(await resolver.resolveCname('ext.default.svc.cluster.local'), ['db.example.test']);
  });

  it('an upstream that never answers is SERVFAIL after the timeout', async () => {
    const r = new Resolver({ timeout: 3000, tries: 1 });
    r.setServers([`${HOST}:${silentDns.udpPort}`]);
    await assert.rejects(r.resolve4('db.x.svc.example.test'), { code: 'ESERVFAIL' });
  });

  it('a large answer is truncated over UDP and complete over TCP (c-ares retries over TCP by itself)', async () => {
    const all = await resolver.resolve4('big.default.svc.cluster.local');
    assert.equal(all.length, 60);
    assert.equal((await resolver.resolveSrv('_p._tcp.big.default.svc.cluster.local')).length, 60);
  });

  it('dig over UDP and TCP', { skip: needs(deps.dig) }, async () => {
    const q = async (...args: string[]): Promise<string> => (await run(pathOf(deps.dig), [`@${HOST}`, '-p', String(dns.udpPort), '+time=2', '+tries=1', ...args])).stdout;
    const a = await q('web.default.svc.cluster.local', 'A');
    assert.match(a, /status: NOERROR/);
    assert.match(a, /flags: qr aa rd ra;/);
    assert.match(a, /web\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+127\.24\.0\.20/);
    const tcp = await q('+tcp', '_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.match(tcp, /IN\s+SRV\s+0 100 80 web\.default\.svc\.cluster\.local\./);
    assert.match(tcp, /ADDITIONAL SECTION:\nweb\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+127\.24\.0\.20/);
    const nx = await q('nope.default.svc.cluster.local');
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY SECTION:\ncluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. 7 7200 1800 86400 5/);
    const nodata = await q('web.default.svc.cluster.local', 'AAAA');
    assert.match(nodata, /status: NOERROR/);
    assert.match(nodata, /ANSWER: 0/);
    const ptr = await q('-x', '127.24.0.20');
    assert.match(ptr, /PTR\s+web\.default\.svc\.cluster\.local\./);
    const big = await q('+notcp', '+ignore', '+noedns', 'big.default.svc.cluster.local');
    assert.match(big, /flags: qr aa tc rd ra;/, 'over 512 bytes without EDNS: truncated');
    const bigTcp = await q('+tcp', 'big.default.svc.cluster.local');
    assert.match(bigTcp, /ANSWER: 60/);
  });
});

describe('upstream configuration', () => {
  it('resolv.conf nameservers in order; comments, options, search lines and junk ignored', () => {
    const text = '# generated\nsearch example.com\nnameserver 10.255.255.53\nnameserver   ::1\noptions ndots:2\nnameserver bogus\n ;nameserver 1.1.1.1\nnameserver fe80::1%eth0\n';
    assert.deepEqual(parseResolvConf(text), [{ host: '10.255.255.53', port: 53 }, { host: '::1', port: 53 }, { host: 'fe80::1%eth0', port: 53 }]);
  });

  it('--upstream: IP, IP:PORT, [IPv6]:PORT, bare IPv6; anything else is a one-line error', () => {
    assert.deepEqual(parseUpstream('1.1.1.1'), { host: '1.1.1.1', port: 53 });
    assert.deepEqual(parseUpstream('1.1.1.1:5353'), { host: '1.1.1.1', port: 5353 });
    assert.deepEqual(parseUpstream('[::1]:5353'), { host: '::1', port: 5353 });
    assert.deepEqual(parseUpstream('::1'), { host: '::1', port: 53 });
    assert.throws(() => parseUpstream('dns.google'), /--upstream: expected IP/);
    assert.throws(() => parseUpstream('1.1.1.1:99999'), /--upstream/);
  });
});
