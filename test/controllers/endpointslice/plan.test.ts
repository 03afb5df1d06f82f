import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import {
  mirroredSliceGroups, planSlices, serviceSliceGroups, serviceSliceLabels, shouldMirror, SLICE_CONTROLLER_NAME, type SliceGroup, type SliceMeta,
} from '../../../src/controllers/endpointslice/plan.js';
import { pod, svc } from '../endpoints/fixtures.js';

const NOW = Date.parse('2026-12-02T04:00:00Z');
const META: SliceMeta = {
  namespace: 'default', generateName: 'web-', labels: { 'kubernetes.io/service-name': 'web' },
  owner: { apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true },
  placeholderAddressType: 'IPv4',
};

/** The slices after applying a plan to `existing` (names given to created ones). */
function apply(existing: EndpointSlice[], plan: ReturnType<typeof planSlices>): EndpointSlice[] {
  let n = existing.length;
  const gone = new Set(plan.delete.map((s) => s.metadata?.name));
  const updated = new Map(plan.update.map((s) => [s.metadata?.name, s]));
  return [
    ...existing.filter((s) => !gone.has(s.metadata?.name)).map((s) => updated.get(s.metadata?.name) ?? s),
    ...plan.create.map((s) => ({ ...s, metadata: { ...s.metadata, name: `web-${n++}` } })),
  ];
}

describe('serviceSliceGroups', () => {
  it('conditions: ready, serving, terminating; one group per port set', () => {
    const groups = serviceSliceGroups(svc(), [
      pod('a', { ports: [['http', 8080, 31000]] }),
      pod('b', { ready: false, ports: [['http', 8080, 31001]] }),
      pod('c', { deleting: true, ports: [['http', 8080, 31002]] }),
      pod('d', { phase: 'Failed' }),
    ]);
    const byName = new Map(groups.map((g) => [g.endpoints[0]?.targetRef?.name, g]));
    assert.equal(groups.length, 3);
    assert.deepEqual(byName.get('a')?.endpoints[0]?.conditions, { ready: true, serving: true, terminating: false });
    assert.deepEqual(byName.get('b')?.endpoints[0]?.conditions, { ready: false, serving: false, terminating: false });
    assert.deepEqual(byName.get('c')?.endpoints[0]?.conditions, { ready: false, serving: true, terminating: true });
    assert.deepEqual(byName.get('a')?.ports, [{ name: 'http', port: 31000, protocol: 'TCP' }]);
    assert.equal(byName.get('a')?.addressType, 'IPv4');
    assert.deepEqual(byName.get('a')?.endpoints[0], {
      addresses: ['127.0.22.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'a-uid' },
    });
  });
  it('publishNotReadyAddresses: every endpoint ready', () => {
    const groups = serviceSliceGroups(svc({ publishNotReadyAddresses: true }), [pod('b', { ready: false }), pod('c', { deleting: true })]);
    assert.deepEqual(groups.flatMap((g) => g.endpoints.map((e) => e.conditions?.ready)), [true, true]);
  });
  it('headless without ports: endpoints with an empty port list; pods with the same ports share a group', () => {
    const groups = serviceSliceGroups(svc({ clusterIP: 'None', ports: [] }), [pod('a'), pod('b')]);
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0]?.ports, []);
    assert.equal(groups[0]?.endpoints.length, 2);
    assert.equal(serviceSliceLabels(svc({ clusterIP: 'None' }), SLICE_CONTROLLER_NAME)['service.kubernetes.io/headless'], '');
  });
});

describe('planSlices', () => {
  const group = (n: number, port = 80): SliceGroup => ({
    addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: Array.from({ length: n }, (_, i) => ({ addresses: [`127.0.22.${(i % 200) + 1}`], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `p${i}`, uid: `u${String(i).padStart(3, '0')}` } })),
  });

  it('splits into slices of at most 100 endpoints, named by generateName, owned and labelled', () => {
    const plan = planSlices([group(250)], [], META, NOW);
    assert.deepEqual(plan.create.map((s) => s.endpoints.length), [100, 100, 50]);
    const s = plan.create[0]!;
    assert.equal(s.metadata?.generateName, 'web-');
    assert.deepEqual(s.metadata?.ownerReferences, [META.owner]);
    assert.equal(s.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2026-12-02T04:00:00Z');
    assert.equal(s.addressType, 'IPv4');
  });

  it('is stable: applying the plan and planning again writes nothing', () => {
    const slices = apply([], planSlices([group(150)], [], META, NOW));
    assert.deepEqual(planSlices([group(150)], slices, META, NOW + 5), { create: [], update: [], delete: [] });
  });

  it('keeps endpoints where they are, fills room before creating, deletes emptied slices', () => {
    let slices = apply([], planSlices([group(150)], [], META, NOW));
    // One endpoint of the first slice goes, 10 arrive: they fill the second slice (50 → 60) and the freed place.
    const g = group(160);
    g.endpoints.splice(3, 1);
    const plan = planSlices([g], slices, META, NOW);
    assert.equal(plan.create.length, 0);
    assert.equal(plan.delete.length, 0);
    slices = apply(slices, plan);
    assert.deepEqual(slices.map((s) => s.endpoints.length), [100, 59]);
    // A port change makes a new group: the old slices go, new ones come.
    const moved = planSlices([group(10, 81)], slices, META, NOW);
    assert.equal(moved.delete.length, 2);
    assert.deepEqual(moved.create.map((s) => [s.endpoints.length, s.ports?.[0]?.port]), [[10, 81]]);
  });

  it('an endpoint changing condition is updated in place', () => {
    const slices = apply([], planSlices([group(3)], [], META, NOW));
    const g = group(3);
    g.endpoints[1]!.conditions = { ready: false };
    const plan = planSlices([g], slices, META, NOW);
    assert.equal(plan.update.length, 1);
    assert.equal(plan.update[0]!.metadata?.name, 'web-0');
    assert.equal(plan.update[0]!.endpoints.find((e) => e.targetRef?.name === 'p1')?.conditions?.ready, false);
  });

  it('without endpoints one empty placeholder slice stays; mirrored sets keep none', () => {
    const plan = planSlices([], [], META, NOW);
    assert.equal(plan.create.length, 1);
    assert.deepEqual([plan.create[0]!.endpoints, plan.create[0]!.ports], [[], []]);
    const slices = apply([], plan);
    assert.deepEqual(planSlices([], slices, META, NOW), { create: [], update: [], delete: [] });
    // Endpoints arrive: the placeholder is deleted and a slice of the group created.
    const next = planSlices([group(1)], slices, META, NOW);
    assert.equal(next.delete.length, 1);
    assert.equal(next.create.length, 1);
    const noPlaceholder = { ...META, placeholderAddressType: undefined };
    assert.deepEqual(planSlices([], slices, noPlaceholder, NOW).delete.length, 1);
    assert.deepEqual(planSlices([], [], noPlaceholder, NOW), { create: [], update: [], delete: [] });
  });
});

describe('mirroring', () => {
  const ep: Endpoints = {
    metadata: { name: 'ext', namespace: 'default', labels: { a: 'b' } },
    subsets: [{ addresses: [{ ip: '192.0.2.1' }], notReadyAddresses: [{ ip: '192.0.2.2' }], ports: [{ name: 'db', port: 5432, protocol: 'TCP' }] }],
  };
  it('mirrors ready and not-ready addresses with the subset ports', () => {
    const groups = mirroredSliceGroups(ep);
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0]?.ports, [{ name: 'db', port: 5432, protocol: 'TCP' }]);
    assert.deepEqual(groups[0]?.endpoints.map((e) => [e.addresses[0], e.conditions?.ready]), [['192.0.2.1', true], ['192.0.2.2', false]]);
  });
  it('only for existing Services without a selector, unless skip-mirror', () => {
    assert.equal(shouldMirror(ep, svc({ selector: undefined })), true);
    assert.equal(shouldMirror(ep, svc()), false);
    assert.equal(shouldMirror(ep, undefined), false);
    assert.equal(shouldMirror({ ...ep, metadata: { ...ep.metadata, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }, svc({ selector: undefined })), false);
  });
});
