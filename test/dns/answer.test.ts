import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Answer as Rr, Question } from 'dns-packet';
import { answer, reverseIp, type Decision, type Reply, type ZoneConfig } from '../../src/dns/answer.js';
import { buildSnapshot, type ClusterObjects } from '../../src/dns/snapshot.js';
import { parseServiceRange } from '../../src/api/service-range.js';

const ZONE: ZoneConfig = { domain: 'cluster.local', ttl: 5, serviceRange: parseServiceRange('127.24.0.0/16') };

function svc(ns: string, name: string, spec: Service['spec']): Service {
  return { metadata: { namespace: ns, name }, spec };
}
function ep(ns: string, name: string, subsets: Endpoints['subsets']): Endpoints {
  return { metadata: { namespace: ns, name }, subsets };
}
function pod(ns: string, name: string, ip: string, spec: Partial<NonNullable<Pod['spec']>> = {}, phase = 'Running'): Pod {
  return { metadata: { namespace: ns, name }, spec: { containers: [], ...spec }, status: { podIP: ip, phase } };
}

const objects: ClusterObjects = {
  services: [
    svc('default', 'web', { clusterIP: '127.24.0.20', clusterIPs: ['127.24.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9000 }] }),
    svc('default', 'dns', { clusterIP: '127.24.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
    svc('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
    svc('default', 'empty', { clusterIP: 'None' }),
    svc('default', 'ext', { type: 'ExternalName', externalName: 'example.org.' }),
    svc('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
    svc('default', 'pending', {}),
    svc('other', 'web', { clusterIP: '127.24.0.30', ports: [{ name: 'http', port: 8080 }] }),
  ],
  endpoints: [
    ep('default', 'db', [
      // Per-pod host ports on the process runtime: each pod its own subset.
      { addresses: [{ ip: '127.0.24.2', hostname: 'db-0' }], ports: [{ name: 'pg', port: 41000, protocol: 'TCP' }] },
      { addresses: [{ ip: '127.0.24.3', targetRef: { kind: 'Pod', namespace: 'default', name: 'db-1' } }], ports: [{ name: 'pg', port: 41001, protocol: 'TCP' }] },
      // Two pods on one node share its IP: one A record, two SRVs.
      { addresses: [{ ip: '127.0.24.3' }], ports: [{ name: 'pg', port: 41002, protocol: 'TCP' }], notReadyAddresses: [{ ip: '127.0.24.9' }] },
    ]),
    ep('default', 'empty', [{ notReadyAddresses: [{ ip: '127.0.24.4' }], ports: [{ name: 'x', port: 1 }] }]),
  ],
  pods: [
    pod('default', 'db-1', '127.0.24.3', { hostname: 'db-1', subdomain: 'db' }),
    pod('default', 'web-abc', '127.0.24.2'),
    pod('default', 'done', '127.0.24.7', {}, 'Succeeded'),
  ],
};
const snap = buildSnapshot(objects, 42);

function ask(name: string, type: Question['type'], zone = ZONE): Decision {
  return answer({ name, type, class: 'IN' }, snap, zone);
}
function reply(name: string, type: Question['type'], zone = ZONE): Reply {
  const d = ask(name, type, zone);
  assert.equal(d.kind, 'reply', `${name} ${type}: ${JSON.stringify(d)}`);
  return d as Reply;
}
const data = (rrs: Rr[]): unknown[] => rrs.map((r) => (r as { data: unknown }).data);
function nodata(name: string, type: Question['type']): void {
  const r = reply(name, type);
  assert.equal(r.rcode, 'NOERROR', `${name} ${type}`);
  assert.deepEqual(r.answers, [], `${name} ${type} has no answer`);
  assert.equal(r.authorities[0]?.type, 'SOA', 'NODATA carries the SOA');
}
function nxdomain(name: string, type: Question['type'] = 'A'): void {
  const r = reply(name, type);
  assert.equal(r.rcode, 'NXDOMAIN', `${name} ${type}`);
  assert.deepEqual(r.answers, []);
  assert.equal(r.authorities[0]?.type, 'SOA');
}

describe('cluster DNS answers: A', () => {
  it('a ClusterIP Service has one A record, authoritative, with the TTL', () => {
    const r = reply('web.default.svc.cluster.local', 'A');
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.authoritative, true);
    assert.deepEqual(r.answers, [{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, class: 'IN', data: '127.24.0.20' }]);
  });

  it('matches case-insensitively, with or without the trailing dot, echoing the asked spelling', () => {
    const r = reply('WEB.Default.SVC.cluster.LOCAL.', 'A');
    assert.deepEqual(data(r.answers), ['127.24.0.20']);
    assert.equal(r.answers[0]!.name, 'WEB.Default.SVC.cluster.LOCAL');
  });

  it('the same Service name in another namespace is another record', () => {
    assert.deepEqual(data(reply('web.other.svc.cluster.local', 'A').answers), ['127.24.0.30']);
  });

  it('a headless Service: one A per ready address (deduplicated), not the not-ready ones', () => {
    assert.deepEqual(data(reply('db.default.svc.cluster.local', 'A').answers), ['127.0.24.2', '127.0.24.3']);
  });

  it('headless hostname records: the address hostname, else the pod\'s hostname/subdomain, else the dashed IP', () => {
    assert.deepEqual(data(reply('db-0.db.default.svc.cluster.local', 'A').answers), ['127.0.24.2']);
    assert.deepEqual(data(reply('db-1.db.default.svc.cluster.local', 'A').answers), ['127.0.24.3']);
    assert.deepEqual(data(reply('127-0-24-3.db.default.svc.cluster.local', 'A').answers), ['127.0.24.3']);
    nxdomain('127-0-24-9.db.default.svc.cluster.local');
  });

  it('a headless Service with no ready address does not exist (NXDOMAIN), nor does a Service without an address', () => {
    nxdomain('empty.default.svc.cluster.local');
    nxdomain('pending.default.svc.cluster.local');
  });

  it('pod records <a-b-c-d>.<ns>.pod for pods that exist with that IP there (not finished ones)', () => {
    assert.deepEqual(data(reply('127-0-24-2.default.pod.cluster.local', 'A').answers), ['127.0.24.2']);
    nxdomain('127-0-24-2.other.pod.cluster.local');
    nxdomain('127-0-24-7.default.pod.cluster.local');
  });
});

describe('cluster DNS answers: AAAA, NODATA and NXDOMAIN', () => {
  it('AAAA of an existing name is NODATA (IPv4 only), with the SOA for negative caching', () => {
    nodata('web.default.svc.cluster.local', 'AAAA');
    nodata('db-0.db.default.svc.cluster.local', 'AAAA');
    const soa = reply('web.default.svc.cluster.local', 'AAAA').authorities[0]!;
    assert.equal(soa.name, 'cluster.local');
    assert.deepEqual((soa as { data: unknown }).data, { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 42, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 });
  });

  it('names that exist only as parents are NODATA: the namespace, svc, pod, the apex, _tcp', () => {
    nodata('default.svc.cluster.local', 'A');
    nodata('svc.cluster.local', 'A');
    nodata('pod.cluster.local', 'A');
    nodata('cluster.local', 'A');
    nodata('_tcp.web.default.svc.cluster.local', 'SRV');
    nodata('default.pod.cluster.local', 'A');
  });

  it('other types at an existing name are NODATA (TXT, MX, SRV on a name without ports)', () => {
    nodata('web.default.svc.cluster.local', 'TXT');
    nodata('web.default.svc.cluster.local', 'MX');
    nodata('db-0.db.default.svc.cluster.local', 'SRV');
  });

  it('names under the zone that do not exist are NXDOMAIN', () => {
    nxdomain('nope.default.svc.cluster.local');
    nxdomain('web.nope.svc.cluster.local');
    nxdomain('x.web.default.svc.cluster.local');
    nxdomain('foo.cluster.local');
  });

  it('the apex has an SOA', () => {
    const r = reply('cluster.local', 'SOA');
    assert.equal(r.answers[0]?.type, 'SOA');
    assert.equal(r.answers[0]?.name, 'cluster.local');
  });

  it('a class other than IN is refused inside the zone', () => {
    const d = answer({ name: 'web.default.svc.cluster.local', type: 'A', class: 'CH' }, snap, ZONE);
    assert.equal(d.kind === 'reply' && d.rcode, 'REFUSED');
  });
});

describe('cluster DNS answers: search paths', () => {
  // A pod in `default` has `search default.svc.cluster.local svc.cluster.local cluster.local`
  // and ndots:5: the resolver tries each suffix in turn until one is not NXDOMAIN.
  const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
  function resolve(name: string, type: Question['type'] = 'A'): { tried: string[]; result: Decision } {
    const tried: string[] = [];
    for (const s of search) {
      const fq = `${name}.${s}`;
      tried.push(fq);
      const d = ask(fq, type);
      if (d.kind !== 'reply' || d.rcode !== 'NXDOMAIN') return { tried, result: d };
    }
    tried.push(name);
    return { tried, result: ask(name, type) };
  }

  it('`web` is found at the first suffix', () => {
    const { tried, result } = resolve('web');
    assert.deepEqual(tried, ['web.default.svc.cluster.local']);
    assert.deepEqual(data((result as Reply).answers), ['127.24.0.20']);
  });

  it('`web.other` gets NXDOMAIN at the first suffix and is found at the second', () => {
    const { tried, result } = resolve('web.other');
    assert.deepEqual(tried, ['web.other.default.svc.cluster.local', 'web.other.svc.cluster.local']);
    assert.deepEqual(data((result as Reply).answers), ['127.24.0.30']);
  });

  it('`web.default.svc` is found at the third suffix', () => {
    const { tried, result } = resolve('web.default.svc');
    assert.equal(tried.length, 3);
    assert.deepEqual(data((result as Reply).answers), ['127.24.0.20']);
  });

  it('an outside name gets NXDOMAIN under every suffix, then goes upstream', () => {
    const { tried, result } = resolve('example.org');
    assert.deepEqual(tried, ['example.org.default.svc.cluster.local', 'example.org.svc.cluster.local', 'example.org.cluster.local', 'example.org']);
    assert.deepEqual(result, { kind: 'forward' });
  });

  it('AAAA of `web` stops at the first suffix as NODATA, not NXDOMAIN', () => {
    const { tried, result } = resolve('web', 'AAAA');
    assert.equal(tried.length, 1);
    assert.equal((result as Reply).rcode, 'NOERROR');
  });
});

describe('cluster DNS answers: SRV', () => {
  it('a named port of a ClusterIP Service: the Service port, the Service as target, its A as additional', () => {
    const r = reply('_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(r.answers), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    assert.deepEqual(r.additionals, [{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, class: 'IN', data: '127.24.0.20' }]);
  });

  it('protocols are told apart; unnamed ports have no SRV', () => {
    assert.deepEqual(data(reply('_dns._udp.dns.default.svc.cluster.local', 'SRV').answers), [{ priority: 0, weight: 100, port: 53, target: 'dns.default.svc.cluster.local' }]);
    nxdomain('_dns._tcp.dns.default.svc.cluster.local', 'SRV');
    assert.equal(reply('_dns-tcp._tcp.dns.default.svc.cluster.local', 'SRV').answers.length, 1);
    nxdomain('_9000._tcp.web.default.svc.cluster.local', 'SRV');
  });

  it('a headless Service: one SRV per ready endpoint with its own (allocated) port and host name', () => {
    const r = reply('_pg._tcp.db.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(r.answers), [
      { priority: 0, weight: 100, port: 41000, target: 'db-0.db.default.svc.cluster.local' },
      { priority: 0, weight: 100, port: 41001, target: 'db-1.db.default.svc.cluster.local' },
      { priority: 0, weight: 100, port: 41002, target: '127-0-24-3.db.default.svc.cluster.local' },
    ]);
    assert.deepEqual(r.additionals.map((a) => [a.name, (a as { data: unknown }).data]), [
      ['db-0.db.default.svc.cluster.local', '127.0.24.2'],
      ['db-1.db.default.svc.cluster.local', '127.0.24.3'],
      ['127-0-24-3.db.default.svc.cluster.local', '127.0.24.3'],
    ]);
  });

  it('SRV of the Service name itself lists every named port (an RRset: identical records once); A at the SRV name is NODATA', () => {
    assert.deepEqual(data(reply('web.default.svc.cluster.local', 'SRV').answers), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    // dns/UDP and dns-tcp/TCP are both port 53 on the same target: one record.
    assert.equal(reply('dns.default.svc.cluster.local', 'SRV').answers.length, 1);
    assert.equal(reply('db.default.svc.cluster.local', 'SRV').answers.length, 3);
    nodata('_http._tcp.web.default.svc.cluster.local', 'A');
  });

  it('ANY returns everything at the name', () => {
    assert.deepEqual(reply('web.default.svc.cluster.local', 'ANY' as Question['type']).answers.map((a) => a.type), ['A', 'SRV']);
  });
});

describe('cluster DNS answers: ExternalName', () => {
  it('a target outside the zone: our CNAME, and the target is to be resolved upstream', () => {
    assert.deepEqual(ask('ext.default.svc.cluster.local', 'A'), {
      kind: 'chase', name: 'example.org', type: 'A',
      answers: [{ name: 'ext.default.svc.cluster.local', type: 'CNAME', ttl: 5, class: 'IN', data: 'example.org' }],
    });
    assert.deepEqual(data(reply('ext.default.svc.cluster.local', 'CNAME').answers), ['example.org']);
  });

  it('a target inside the zone is chased here', () => {
    const r = reply('alias.default.svc.cluster.local', 'A');
    assert.deepEqual(r.answers.map((a) => [a.type, (a as { data: unknown }).data]), [['CNAME', 'web.default.svc.cluster.local'], ['A', '127.24.0.20']]);
  });
});

describe('cluster DNS answers: PTR', () => {
  it('a ClusterIP points back to its Service', () => {
    const r = reply('20.0.24.127.in-addr.arpa', 'PTR');
    assert.deepEqual(r.answers, [{ name: '20.0.24.127.in-addr.arpa', type: 'PTR', ttl: 5, class: 'IN', data: 'web.default.svc.cluster.local' }]);
  });

  it('a pod IP points to its headless host names and its pod record', () => {
    assert.deepEqual(data(reply('3.24.0.127.in-addr.arpa.', 'PTR').answers), [
      'db-1.db.default.svc.cluster.local', '127-0-24-3.db.default.svc.cluster.local', '127-0-24-3.default.pod.cluster.local',
    ]);
    assert.deepEqual(data(reply('2.24.0.127.IN-ADDR.ARPA', 'PTR').answers), ['db-0.db.default.svc.cluster.local', '127-0-24-2.default.pod.cluster.local']);
  });

  it('a known address asked for another type is NODATA', () => {
    const r = reply('20.0.24.127.in-addr.arpa', 'A');
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(r.answers, []);
  });

  it('an unused address of the Service range is NXDOMAIN; other unknown addresses go upstream', () => {
    assert.equal(reply('99.0.24.127.in-addr.arpa', 'PTR').rcode, 'NXDOMAIN');
    assert.deepEqual(ask('1.1.168.192.in-addr.arpa', 'PTR'), { kind: 'forward' });
    assert.deepEqual(ask('24.127.in-addr.arpa', 'PTR'), { kind: 'forward' });
    assert.deepEqual(ask('99.0.24.127.in-addr.arpa', 'PTR', { domain: 'cluster.local', ttl: 5 }), { kind: 'forward' }, 'no range configured');
  });

  it('reverseIp parses only full four-octet names', () => {
    assert.equal(reverseIp('4.3.2.1.in-addr.arpa'), '1.2.3.4');
    assert.equal(reverseIp('3.2.1.in-addr.arpa'), undefined);
    assert.equal(reverseIp('300.3.2.1.in-addr.arpa'), undefined);
  });
});

describe('cluster DNS answers: other zones', () => {
  it('names outside the zone are forwarded', () => {
    assert.deepEqual(ask('example.org', 'A'), { kind: 'forward' });
    assert.deepEqual(ask('local', 'A'), { kind: 'forward' });
    assert.deepEqual(ask('xcluster.local', 'A'), { kind: 'forward' });
  });

  it('another --cluster-domain serves the same snapshot under its name', () => {
    const z = { domain: 'corp.example', ttl: 30 };
    const r = reply('web.default.svc.corp.example', 'A', z);
    assert.deepEqual(r.answers, [{ name: 'web.default.svc.corp.example', type: 'A', ttl: 30, class: 'IN', data: '127.24.0.20' }]);
    assert.deepEqual(ask('web.default.svc.cluster.local', 'A', z), { kind: 'forward' });
    assert.deepEqual(data(reply('20.0.24.127.in-addr.arpa', 'PTR', z).answers), ['web.default.svc.corp.example']);
  });
});
