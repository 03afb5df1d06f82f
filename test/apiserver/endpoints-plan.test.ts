// The endpoint lease planner (pure): liveness by observation time, first-look leases, grouping by
// port, canonical output; observation bookkeeping; lease parsing and naming.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import {
  ADDRESS_ANNOTATION, ENDPOINT_LEASE_LABEL, PORT_ANNOTATION, endpointLeaseName, leaseServer, listedServers, observeLeases,
  planEndpoints, type ObservedLease, type PlanInput,
} from '../../src/apiserver/endpoints-plan.js';

const TTL = 5_000;
const NOW = 100_000;

const s = (ip: string, port: number, ageMs: number, more: Partial<PlanInput> = {}): PlanInput => ({ ip, port, observedAt: NOW - ageMs, changed: true, listed: true, ...more });
const subset = (port: number, ...ips: string[]) => ({ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'https', port, protocol: 'TCP' }] });

describe('planEndpoints', () => {
  const cases: { name: string; observed: PlanInput[]; want: ReturnType<typeof subset>[] }[] = [
    { name: 'nothing observed: no subsets', observed: [], want: [] },
    { name: 'three live servers on one port: one subset, addresses sorted', observed: [s('10.0.0.3', 6443, 0), s('10.0.0.1', 6443, 1000), s('10.0.0.2', 6443, 4000)], want: [subset(6443, '10.0.0.1', '10.0.0.2', '10.0.0.3')] },
    { name: 'observed exactly ttl ago: still live', observed: [s('10.0.0.1', 6443, TTL)], want: [subset(6443, '10.0.0.1')] },
    { name: 'observed longer than ttl ago: dropped', observed: [s('10.0.0.1', 6443, TTL + 1), s('10.0.0.2', 6443, 10)], want: [subset(6443, '10.0.0.2')] },
    { name: 'all stale: no subsets', observed: [s('10.0.0.1', 6443, 60_000)], want: [] },
    { name: 'servers on different ports: one subset per port, ports ascending', observed: [s('127.0.0.1', 7000, 0), s('127.0.0.1', 6443, 0), s('127.0.0.2', 7000, 0)], want: [subset(6443, '127.0.0.1'), subset(7000, '127.0.0.1', '127.0.0.2')] },
    { name: 'the same address twice (two leases): listed once', observed: [s('10.0.0.1', 6443, 0), s('10.0.0.1', 6443, 100)], want: [subset(6443, '10.0.0.1')] },
    { name: 'first-look lease, unchanged, already listed: kept for the grace', observed: [s('10.0.0.1', 6443, 1000, { changed: false, listed: true })], want: [subset(6443, '10.0.0.1')] },
    { name: 'first-look lease, unchanged, not listed: not added (may be long dead)', observed: [s('10.0.0.1', 6443, 0, { changed: false, listed: false })], want: [] },
    { name: 'first-look lease past the grace: dropped even if listed', observed: [s('10.0.0.1', 6443, TTL + 1, { changed: false, listed: true })], want: [] },
    { name: 'changed lease not listed yet: added', observed: [s('10.0.0.9', 6443, 0, { listed: false })], want: [subset(6443, '10.0.0.9')] },
    { name: 'not listed, changed exactly ttl/2 ago: added', observed: [s('10.0.0.9', 6443, TTL / 2, { listed: false })], want: [subset(6443, '10.0.0.9')] },
    { name: 'not listed, changed longer than ttl/2 ago (a peer dropped it): not written back', observed: [s('10.0.0.9', 6443, TTL / 2 + 1, { listed: false })], want: [] },
    { name: 'listed, changed longer than ttl/2 ago: kept', observed: [s('10.0.0.9', 6443, TTL / 2 + 1, { listed: true })], want: [subset(6443, '10.0.0.9')] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(planEndpoints(c.observed, NOW, TTL), c.want);
    });
  }

  test('output does not depend on input order', () => {
    const xs = [s('10.0.0.2', 7000, 0), s('10.0.0.1', 6443, 0), s('10.0.0.3', 6443, 0), s('10.0.0.1', 7000, 0)];
    assert.deepEqual(planEndpoints(xs, NOW, TTL), planEndpoints([...xs].reverse(), NOW, TTL));
  });

  test('inputs are not modified', () => {
    const xs = [s('10.0.0.2', 6443, 0)];
    const copy = structuredClone(xs);
    planEndpoints(xs, NOW, TTL);
    assert.deepEqual(xs, copy);
  });
});

function lease(name: string, rv: string, ip: string | undefined, port: string | undefined, labelled = true): Lease {
  const annotations: Record<string, string> = {};
  if (ip !== undefined) annotations[ADDRESS_ANNOTATION] = ip;
  if (port !== undefined) annotations[PORT_ANNOTATION] = port;
  return { metadata: { name, resourceVersion: rv, annotations, ...(labelled ? { labels: { [ENDPOINT_LEASE_LABEL]: 'true' } } : {}) } };
}

describe('observeLeases', () => {
  test('first look: everything observed now, none counts as changed', () => {
    const got = observeLeases(new Map(), [lease('a', '5', '10.0.0.1', '6443')], 1000, true);
    assert.deepEqual(got.get('a'), { name: 'a', ip: '10.0.0.1', port: 6443, resourceVersion: '5', observedAt: 1000, changed: false });
  });

  test('later looks: unchanged keeps its time, changed and new are observed now and count as changed, vanished are forgotten', () => {
    const prev = new Map<string, ObservedLease>([
      ['same', { name: 'same', ip: '10.0.0.1', port: 6443, resourceVersion: '5', observedAt: 1000, changed: false }],
      ['moved', { name: 'moved', ip: '10.0.0.2', port: 6443, resourceVersion: '6', observedAt: 1000, changed: false }],
      ['gone', { name: 'gone', ip: '10.0.0.3', port: 6443, resourceVersion: '7', observedAt: 1000, changed: true }],
    ]);
    const got = observeLeases(prev, [lease('same', '5', '10.0.0.1', '6443'), lease('moved', '9', '10.0.0.2', '6443'), lease('new', '10', '10.0.0.4', '6443')], 3000, false);
    assert.deepEqual([...got.keys()].sort(), ['moved', 'new', 'same']);
    assert.equal(got.get('same')?.observedAt, 1000);
    assert.equal(got.get('same')?.changed, false);
    assert.deepEqual({ at: got.get('moved')?.observedAt, changed: got.get('moved')?.changed, rv: got.get('moved')?.resourceVersion }, { at: 3000, changed: true, rv: '9' });
    assert.deepEqual({ at: got.get('new')?.observedAt, changed: got.get('new')?.changed }, { at: 3000, changed: true });
    assert.equal(prev.get('moved')?.resourceVersion, '6', 'the previous map is not modified');
  });

  test('leases that are not endpoint leases, or are malformed, are ignored', () => {
    const got = observeLeases(new Map(), [
      lease('cm', '1', '10.0.0.1', '6443', false),
      lease('noip', '2', undefined, '6443'),
      lease('badport', '3', '10.0.0.1', 'https'),
      lease('zero', '4', '10.0.0.1', '0'),
      lease('ok', '5', 'fd00::1', '443'),
    ], 1, false);
    assert.deepEqual([...got.keys()], ['ok']);
  });
});

describe('lease names and Endpoints parsing', () => {
  test('endpointLeaseName is a valid object name for IPv4 and IPv6', () => {
    assert.equal(endpointLeaseName({ ip: '127.0.4.1', port: 6443 }), 'trireme-apiserver-127-0-4-1-6443');
    assert.equal(endpointLeaseName({ ip: 'FD00::1', port: 443 }), 'trireme-apiserver-fd00--1-443');
  });

  test('leaseServer reads the annotations', () => {
    assert.deepEqual(leaseServer(lease('x', '1', '10.0.0.1', '6443')), { ip: '10.0.0.1', port: 6443 });
    assert.equal(leaseServer(lease('x', '1', '10.0.0.1', '70000')), undefined);
  });

  test('listedServers: every address with every port of its subset', () => {
    assert.deepEqual([...listedServers([subset(6443, 'a', 'b'), subset(7000, 'a')])].sort(), ['a:6443', 'a:7000', 'b:6443']);
    assert.deepEqual([...listedServers(undefined)], []);
    assert.deepEqual([...listedServers([{ addresses: [{ ip: 'a' }] }])], []);
  });
});
