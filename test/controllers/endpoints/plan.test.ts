import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { podTargetPort, shouldPodBeInEndpoints } from '../../../src/controllers/endpoints/pod-ports.js';
import { planEndpoints, desiredSubsets, MANAGED_BY_LABEL, TRIGGER_TIME_ANNOTATION, OVER_CAPACITY_ANNOTATION } from '../../../src/controllers/endpoints/plan.js';

import { pod, svc } from './fixtures.js';

const NOW = Date.parse('2026-12-02T04:00:00Z');

describe('podTargetPort', () => {
  it('maps a named targetPort to the allocated host port, falling back to the declared one', () => {
    const s = svc().spec!.ports![0]!;
    assert.equal(podTargetPort(pod('a', { ports: [['http', 8080, 31000]] }), s), 31000);
    assert.equal(podTargetPort(pod('a', { ports: [['http', 8080]] }), s), 8080);
    assert.equal(podTargetPort(pod('a', { ports: [['metrics', 9090, 31001]] }), s), undefined);
  });
  it('maps a numbered targetPort through a declared containerPort; an undeclared number is used as is', () => {
    assert.equal(podTargetPort(pod('a', { ports: [['http', 8080, 31000]] }), { port: 80, targetPort: 8080, protocol: 'TCP' }), 31000);
    assert.equal(podTargetPort(pod('a', { ports: [[undefined, 8080, 31002]] }), { port: 80, targetPort: 8080, protocol: 'TCP' }), 31002);
    assert.equal(podTargetPort(pod('a'), { port: 80, targetPort: 7000, protocol: 'TCP' }), 7000);
    assert.equal(podTargetPort(pod('a', { ports: [['http', 80, 31003]] }), { port: 80, protocol: 'TCP' }), 31003, 'targetPort defaults to port');
  });
  it('matches the protocol', () => {
    assert.equal(podTargetPort(pod('a'), { port: 53, targetPort: 'http', protocol: 'UDP' }), undefined);
  });
  it('prefers the trireme.io/ports annotation like the condition', () => {
    const p = pod('a', { ports: [['http', 8080]] });
    p.metadata!.annotations = { 'trireme.io/ports': JSON.stringify({ 'app/http': 32000 }) };
    assert.equal(podTargetPort(p, svc().spec!.ports![0]!), 32000);
  });
});

describe('shouldPodBeInEndpoints', () => {
  it('drops terminal pods, pods without IP, and terminating ones unless asked', () => {
    assert.equal(shouldPodBeInEndpoints(pod('a'), false), true);
    assert.equal(shouldPodBeInEndpoints(pod('a', { phase: 'Succeeded' }), true), false);
    assert.equal(shouldPodBeInEndpoints(pod('a', { ip: '' }), true), false);
    assert.equal(shouldPodBeInEndpoints(pod('a', { deleting: true }), false), false);
    assert.equal(shouldPodBeInEndpoints(pod('a', { deleting: true }), true), true);
  });
});

describe('planEndpoints', () => {
  it('creates Endpoints with ready and not-ready addresses on their allocated ports', () => {
    const plan = planEndpoints(svc({}, { tier: 'front' }), [
      pod('a', { ports: [['http', 8080, 31000]] }),
      pod('b', { ready: false, ports: [['http', 8080, 31001]], node: 'n2', ip: '127.0.22.3' }),
      pod('other', { labels: { app: 'db' } }),
    ], undefined, NOW);
    assert.ok(plan.action === 'create');
    const ep = plan.endpoints;
    assert.equal(ep.metadata?.name, 'web');
    assert.deepEqual(ep.metadata?.labels, { tier: 'front', [MANAGED_BY_LABEL]: 'endpoint-controller' });
    assert.equal(ep.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION], '2026-12-02T04:00:00Z');
    assert.deepEqual(ep.subsets, [
      {
        addresses: [{ ip: '127.0.22.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'a-uid' } }],
        ports: [{ name: 'http', port: 31000, protocol: 'TCP' }],
      },
      {
        notReadyAddresses: [{ ip: '127.0.22.3', nodeName: 'n2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'b-uid' } }],
        ports: [{ name: 'http', port: 31001, protocol: 'TCP' }],
      },
    ]);
  });

  it('pods sharing a node IP stay distinct addresses; same ports share a subset', () => {
    const { subsets } = desiredSubsets(svc({ ports: [{ name: 'h', port: 80, protocol: 'TCP', targetPort: 7000 }] }), [pod('b'), pod('a')]);
    assert.equal(subsets.length, 1);
    assert.deepEqual(subsets[0]!.addresses!.map((a) => a.targetRef?.name), ['a', 'b']);
    assert.deepEqual(subsets[0]!.ports, [{ name: 'h', port: 7000, protocol: 'TCP' }]);
  });

  it('publishNotReadyAddresses lists every pod as ready, terminating ones included', () => {
    const { subsets } = desiredSubsets(svc({ publishNotReadyAddresses: true }), [pod('a', { ready: false }), pod('b', { deleting: true, ports: [['http', 8080, 31005]] })]);
    assert.deepEqual(subsets.flatMap((s) => (s.addresses ?? []).map((a) => a.targetRef?.name)).sort(), ['a', 'b']);
    assert.equal(subsets.some((s) => s.notReadyAddresses), false);
  });

  it('terminating pods are left out', () => {
    const { subsets } = desiredSubsets(svc(), [pod('a', { deleting: true })]);
    assert.deepEqual(subsets, []);
  });

  it('multi-port: each port maps separately; a pod lacking a named port is left out of that port only', () => {
    const s = svc({ ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
      { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 'metrics' },
    ] });
    const { subsets } = desiredSubsets(s, [
      pod('a', { ports: [['http', 8080, 31000], ['metrics', 9090, 31100]] }),
      pod('b', { ports: [['http', 8080, 31001]] }),
    ]);
    assert.deepEqual(subsets.map((x) => [x.addresses?.[0]?.targetRef?.name, x.ports?.map((p) => `${p.name}:${p.port}`)]), [
      ['a', ['http:31000', 'metrics:31100']],
      ['b', ['http:31001']],
    ]);
  });

  it('headless: Endpoints too, with hostname for pods whose subdomain is the Service; no ports → bare addresses', () => {
    const s = svc({ clusterIP: 'None', ports: [] });
    const plan = planEndpoints(s, [pod('a', { hostname: 'a0', subdomain: 'web' }), pod('b', { hostname: 'b0', subdomain: 'other' })], undefined, NOW);
    assert.ok(plan.action === 'create');
    assert.equal(plan.endpoints.metadata?.labels?.['service.kubernetes.io/headless'], '');
    assert.deepEqual(plan.endpoints.subsets?.map((x) => [x.addresses?.map((a) => a.hostname), x.ports]), [[['a0', undefined], undefined]]);
    assert.deepEqual(desiredSubsets(svc({ ports: [] }), [pod('a')]).subsets, [], 'a ClusterIP Service without ports has no subsets');
  });

  it('Services without a selector are left alone', () => {
    assert.deepEqual(planEndpoints(svc({ selector: undefined }), [pod('a')], undefined, NOW), { action: 'none' });
    assert.deepEqual(planEndpoints(svc({ selector: {} }), [pod('a')], { metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '1.2.3.4' }] }] }, NOW), { action: 'none' });
  });

  it('no write when nothing changed; an update keeps the stored metadata', () => {
    const first = planEndpoints(svc(), [pod('a')], undefined, NOW);
    assert.ok(first.action === 'create');
    const stored: Endpoints = { ...first.endpoints, metadata: { ...first.endpoints.metadata, resourceVersion: '7', uid: 'ep-uid' } };
    assert.deepEqual(planEndpoints(svc(), [pod('a')], stored, NOW + 1000), { action: 'none' });
    const next = planEndpoints(svc(), [pod('a', { ready: false })], stored, NOW + 2000);
    assert.ok(next.action === 'update');
    assert.equal(next.endpoints.metadata?.resourceVersion, '7');
    assert.equal(next.endpoints.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION], '2026-12-02T04:00:02Z');
    assert.equal(next.endpoints.subsets?.[0]?.notReadyAddresses?.length, 1);
  });

  it('more than 1000 addresses are truncated, ready ones first, and annotated', () => {
    const pods = Array.from({ length: 1001 }, (_, i) => pod(`p${String(i).padStart(4, '0')}`, { ready: i !== 0, ports: [['http', 8080]] }));
    const plan = planEndpoints(svc(), pods, undefined, NOW);
    if (plan.action === 'none') return assert.fail('expected a write');
    assert.equal(plan.endpoints.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION], 'truncated');
    const addrs = plan.endpoints.subsets!.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]);
    assert.equal(addrs.length, 1000);
    assert.equal(addrs.some((a) => a.targetRef?.name === 'p0000'), false);
  });
});
