import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import {
  filterInterPodAffinity, normalizeMinMax, prepareInterPodAffinity, prepareInterPodAffinityScore,
  REASON_AFFINITY, REASON_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY, scoreInterPodAffinity,
} from '../../../src/scheduler/plugins/inter-pod-affinity.js';
import { bound, cacheWith, info, node, pod } from '../fixtures.js';

const HOST = 'kubernetes.io/hostname';
const term = (app: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ topologyKey: HOST, labelSelector: { matchLabels: { app } }, ...extra });
const labelled = (name: string, app: string, spec: Partial<Pod['spec']> = {}, ns = 'default') => pod(name, spec, { labels: { app }, namespace: ns });
const anti = (name: string, app: string) => labelled(name, app, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app)] } } });

function reasons(p: Pod, snapPods: Pod[], nodes = ['n1', 'n2', 'n3']) {
  const snap = cacheWith(nodes.map((n) => node(n)), snapPods);
  const pi = info(p);
  const state = prepareInterPodAffinity(pi, snap);
  return snap.nodeList.map((n) => filterInterPodAffinity(pi, n, state));
}

test('nothing to check gives a null state', () => {
  const snap = cacheWith([node('n1')], [bound(labelled('x', 'web'), 'n1')]);
  assert.equal(prepareInterPodAffinity(info(pod('p')), snap), null);
});

test('required anti-affinity keeps replicas on distinct hosts', () => {
  assert.deepEqual(reasons(anti('web-3', 'web'), [bound(anti('web-1', 'web'), 'n1'), bound(anti('web-2', 'web'), 'n2')]),
    [REASON_ANTI_AFFINITY, REASON_ANTI_AFFINITY, null]);
});

test("existing pods' anti-affinity rejects a pod they select", () => {
  assert.deepEqual(reasons(labelled('p', 'web'), [bound(anti('web-1', 'web'), 'n1')]), [REASON_EXISTING_ANTI_AFFINITY, null, null]);
});

test('required affinity follows matching pods; the first of a group may go anywhere', () => {
  const withDb = labelled('p', 'web', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] } } });
  assert.deepEqual(reasons(withDb, [bound(labelled('db', 'db'), 'n2')]), [REASON_AFFINITY, null, REASON_AFFINITY]);
  assert.deepEqual(reasons(withDb, []), [REASON_AFFINITY, REASON_AFFINITY, REASON_AFFINITY], 'no db pod and it does not match itself');
  const selfGroup = labelled('p', 'cache', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('cache')] } } });
  assert.deepEqual(reasons(selfGroup, []), [null, null, null]);
});

test('namespaces: own by default, listed ones, namespaceSelector', () => {
  const other = bound(labelled('db', 'db', {}, 'other'), 'n1');
  const ownNs = labelled('p', 'x', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] } } });
  assert.deepEqual(reasons(ownNs, [other]), [null, null, null]);
  const listed = labelled('p', 'x', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', { namespaces: ['other'] })] } } });
  assert.deepEqual(reasons(listed, [other]), [REASON_ANTI_AFFINITY, null, null]);

  const snap = cacheWith([node('n1'), node('n2')], [other]);
  snap.setNamespace({ metadata: { name: 'other', labels: { team: 'data' } } });
  const bySelector = info(labelled('p', 'x', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', { namespaceSelector: { matchLabels: { team: 'data' } } })] } } }));
  const st = prepareInterPodAffinity(bySelector, snap);
  assert.deepEqual(snap.nodeList.map((n) => filterInterPodAffinity(bySelector, n, st)), [REASON_ANTI_AFFINITY, null]);
  const all = info(labelled('p', 'x', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', { namespaceSelector: {} })] } } }));
  const st2 = prepareInterPodAffinity(all, snap);
  assert.deepEqual(snap.nodeList.map((n) => filterInterPodAffinity(all, n, st2)), [REASON_ANTI_AFFINITY, null]);
});

test('a null labelSelector selects no pods', () => {
  const p = labelled('p', 'x', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: HOST }] } } });
  assert.deepEqual(reasons(p, [bound(labelled('y', 'y'), 'n1')]), [null, null, null]);
});

test('other topology keys: a zone is one domain; nodes without the label are not excluded by anti-affinity', () => {
  const nodes = [node('a1', { labels: { zone: 'a' } }), node('a2', { labels: { zone: 'a' } }), node('b1', { labels: { zone: 'b' } }), node('x')];
  const snap = cacheWith(nodes, [bound(labelled('db', 'db'), 'a1')]);
  const p = info(labelled('p', 'w', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', { topologyKey: 'zone' })] } } }));
  const st = prepareInterPodAffinity(p, snap);
  assert.deepEqual(snap.nodeList.map((n) => [n.name, filterInterPodAffinity(p, n, st)]),
    [['a1', REASON_ANTI_AFFINITY], ['a2', REASON_ANTI_AFFINITY], ['b1', null], ['x', null]]);
});

test('preferred affinity and anti-affinity score, including the symmetric side', () => {
  const snap = cacheWith([node('n1'), node('n2'), node('n3')], [bound(labelled('db', 'db'), 'n1'), bound(labelled('web', 'web'), 'n2')]);
  const p = info(labelled('p', 'x', { affinity: {
    podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term('db') }] },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 20, podAffinityTerm: term('web') }] },
  } }));
  const st = prepareInterPodAffinityScore(p, snap);
  const raw = Float64Array.from(snap.nodeList.map((n) => scoreInterPodAffinity(n, st)));
  assert.deepEqual([...raw], [50, -20, 0]);
  normalizeMinMax(raw);
  assert.deepEqual([...raw].map(Math.round), [100, 0, 29]);

  // A placed pod that prefers to be away from "x" pods repels the incoming one.
  const shy = labelled('shy', 's', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('x') }] } } });
  const snap2 = cacheWith([node('n1'), node('n2')], [bound(shy, 'n1')]);
  const plain = info(labelled('p', 'x'));
  const st2 = prepareInterPodAffinityScore(plain, snap2);
  assert.deepEqual(snap2.nodeList.map((n) => scoreInterPodAffinity(n, st2)), [-10, 0]);
  assert.equal(prepareInterPodAffinityScore(info(pod('q')), cacheWith([node('n1')])), null);
});
