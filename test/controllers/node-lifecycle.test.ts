// Integration: the node lifecycle controller inside the controller manager against a real
// in-process API server. The test plays the agents: node `alive` renews its Lease, `ahead` and
// `behind` renew it with clocks ten minutes off, node `silent` never does after registration.
// Measures the time from the silent node's last heartbeat to the deletion of its pods. A second
// cluster of three nodes checks the mass-disruption guard: two silent at once keep their pods.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as PromRegistry } from 'prom-client';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { kubeTime, microTime } from '../../src/api/time.js';
import { resource } from '../../src/client/resources.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { NodeLifecycleMetrics } from '../../src/controllers/nodelifecycle/metrics.js';
import { isTriremeError } from '../../src/errors.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import type { NodeLike, PodLike } from './fixtures.js';
import { waitFor } from './fixtures.js';

const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const LEASES = resource('coordination.k8s.io', 'leases');
const EVENTS = resource('', 'events');
const NS = 'default';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

type LeaseObj = Lease & KubeObject;

type EventLike = KubeObject & { reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } };

/** An in-process API server with fake agents: each name in `alive` renews its Lease every 500 ms, `skew` ms off. */
function fakeCluster() {
  const c = {
    api: undefined as unknown as TestApiServer,
    alive: new Set<string>(),
    skew: new Map<string, number>(),
    timer: undefined as NodeJS.Timeout | undefined,
    async renew(name: string) {
      await c.api.client.patch(LEASES, 'kube-node-lease', name, 'merge', { spec: { renewTime: microTime(Date.now() + (c.skew.get(name) ?? 0)) } });
    },
    async postReady(name: string) {
      const now = kubeTime(Date.now() + (c.skew.get(name) ?? 0));
      await c.api.client.patch(NODES, undefined, name, 'merge', {
        status: {
          conditions: ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
            type, status: type === 'Ready' ? 'True' : 'False', reason: type === 'Ready' ? 'KubeletReady' : 'KubeletHasSufficient',
            lastHeartbeatTime: now, lastTransitionTime: now,
          })),
        },
      }, { subresource: 'status' });
    },
    async register(name: string, labels: Record<string, string> = {}) {
      await c.api.client.create<NodeLike>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
      await c.postReady(name);
      await c.api.client.create<LeaseObj>(LEASES, 'kube-node-lease', {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' },
        spec: { holderIdentity: name, leaseDurationSeconds: 10, renewTime: microTime(Date.now() + (c.skew.get(name) ?? 0)) },
      });
    },
    /** An API server with these nodes registered and renewing. */
    async up(names: string[]) {
      c.api = await startTestApiServer();
      for (const n of names) {
        c.alive.add(n);
        await c.register(n);
      }
      c.start();
    },
    start() {
      const tick = () => {
        c.timer = setTimeout(() => {
          void Promise.all([...c.alive].map((n) => c.renew(n))).catch(() => undefined).finally(() => {
            if (c.timer) tick();
          });
        }, 500);
      };
      tick();
    },
    stop() {
      if (c.timer) clearTimeout(c.timer);
      c.timer = undefined;
    },
    async getPod(name: string) {
      try {
        return await c.api.client.get<PodLike>(PODS, NS, name);
      } catch (e) {
        if (isTriremeError(e, 'NotFound')) return undefined;
        throw e;
      }
    },
    async node(name: string) {
      return c.api.client.get<NodeLike>(NODES, undefined, name);
    },
    async events(reason: string, name: string) {
      const evs = (await c.api.client.list<EventLike>(EVENTS, NS)).items;
      return evs.filter((e) => e.reason === reason && e.involvedObject?.name === name);
    },
  };
  return c;
}

const boundPod = (name: string, node: string, tolerationSeconds?: number): PodLike => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
  spec: {
    nodeName: node, containers: [{ name: 'c', image: 'x:1' }],
    tolerations: [
      { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', ...(tolerationSeconds === undefined ? {} : { tolerationSeconds }) },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
    ],
  },
});
const hasNoExecute = (n: NodeLike) => n.spec?.taints?.some((t) => t.key === UNREACHABLE && t.effect === 'NoExecute') === true;
const readyOf = (n: NodeLike) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('node lifecycle controller (in-process API server)', () => {
  const c = fakeCluster();
  let cm: { stop(): Promise<void> };
  const SKEW = 10 * 60_000;

  before(async () => {
    c.api = await startTestApiServer();
    c.skew.set('ahead', SKEW).set('behind', -SKEW);
    for (const n of ['alive', 'ahead', 'behind']) c.alive.add(n);
    for (const n of ['alive', 'silent', 'ahead', 'behind']) await c.register(n);
    c.start();
    cm = await startControllerManager(c.api.client, { logger: silentLogger, workers: 2 });
  });
  after(async () => {
    c.stop();
    await cm.stop();
    await c.api.close();
  });

  it('a silent node goes Unknown and unreachable; its pods go after tolerationSeconds; agents with skewed clocks stay; it recovers', async () => {
    const { api } = c;
    const silentLease = await api.client.get<LeaseObj>(LEASES, 'kube-node-lease', 'silent');
    const lastHeartbeat = Date.parse(silentLease.spec?.renewTime ?? '');
    await api.client.create(PODS, NS, boundPod('on-alive', 'alive', 1));
    await api.client.create(PODS, NS, boundPod('on-ahead', 'ahead', 1));
    await api.client.create(PODS, NS, boundPod('on-behind', 'behind', 1));
    await api.client.create(PODS, NS, boundPod('on-silent', 'silent', 2));
    await api.client.create(PODS, NS, boundPod('on-silent-forever', 'silent'));

    const tainted = await waitFor(async () => {
      const n = await c.node('silent');
      return hasNoExecute(n) ? n : undefined;
    }, 15_000);
    const taintedAt = Date.now();
    const ready = tainted.status?.conditions?.find((k) => k.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusUnknown');
    assert.equal(ready?.message, 'Kubelet stopped posting node status.');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(tainted.status?.conditions?.find((k) => k.type === type)?.status, 'Unknown', type);
    }
    // The controller saw the last renewal no earlier than it was written (same host clock here).
    assert.ok(taintedAt - lastHeartbeat >= 5000, `tainted ${taintedAt - lastHeartbeat} ms after the last heartbeat`);

    await waitFor(async () => ((await c.getPod('on-silent')) ? undefined : true), 10_000);
    const deletedAt = Date.now();
    // tolerationSeconds 2: the eviction comes 2 s after the controller decided to taint. That
    // decision is no earlier than the taint's timeAdded (whole seconds, truncated) and no
    // earlier than 5 s after the last heartbeat; a read that did not see the taint yet bounds
    // nothing, since the decision precedes the write's commit.
    const taint = tainted.spec?.taints?.find((t) => t.key === UNREACHABLE && t.effect === 'NoExecute');
    const decidedNoEarlier = Math.max(lastHeartbeat + 5000, Date.parse(taint?.timeAdded ?? ''));
    assert.ok(deletedAt - decidedNoEarlier >= 2000, `deleted ${deletedAt - decidedNoEarlier} ms after the earliest the taint can have been decided`);
    console.log(`# timeline: last heartbeat → tainted ${((taintedAt - lastHeartbeat) / 1000).toFixed(1)} s → pod deleted ${((deletedAt - lastHeartbeat) / 1000).toFixed(1)} s`);

    const forever = await c.getPod('on-silent-forever');
    assert.ok(forever && !forever.metadata?.deletionTimestamp, 'a pod tolerating forever stays');
    for (const name of ['alive', 'ahead', 'behind']) {
      assert.ok(await c.getPod(`on-${name}`), `pods on ${name} stay`);
      const n = await c.node(name);
      assert.deepEqual(n.spec?.taints ?? [], [], name);
      assert.equal(readyOf(n), 'True', name);
    }

    await waitFor(async () => ((await c.events('TaintManagerEviction', 'on-silent')).length ? true : undefined));

    // The agent comes back: lease renewed and Ready=True posted; the taint goes.
    c.alive.add('silent');
    await c.renew('silent');
    await c.postReady('silent');
    await waitFor(async () => ((await c.node('silent')).spec?.taints ?? []).length === 0 ? true : undefined);
    assert.ok(await c.getPod('on-silent-forever'));
  });

  it('cordon adds unschedulable:NoSchedule, uncordon removes it', async () => {
    const { api } = c;
    await api.client.patch(NODES, undefined, 'alive', 'merge', { spec: { unschedulable: true } });
    await waitFor(async () => {
      const n = await c.node('alive');
      return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule') ? true : undefined;
    });
    await api.client.patch(NODES, undefined, 'alive', 'merge', { spec: { unschedulable: false } });
    await waitFor(async () => ((await c.node('alive')).spec?.taints ?? []).length === 0 ? true : undefined);
  });
});

describe('node lifecycle controller: the mass-disruption guard (in-process API server)', () => {
  const c = fakeCluster();
  let cm: { stop(): Promise<void> } | undefined;
  const metrics = new PromRegistry();
  const lifecycleMetrics = new NodeLifecycleMetrics(metrics);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values as Array<{ value: number; labels: Record<string, string | number> }> | undefined)
      ?.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
  };
  const startCm = async () => {
    cm = await startControllerManager(c.api.client, { logger: silentLogger, workers: 2, nodeLifecycle: { metrics: lifecycleMetrics } });
  };

  before(async () => {
    await c.up(['a', 'b', 'c']);
    await startCm();
  });
  after(async () => {
    c.stop();
    await cm?.stop();
    await c.api.close();
  });

  it('two of three nodes silent at once: Unknown, but no NoExecute taint and no eviction; an Event and the metrics say why; when one returns the other is evicted', async () => {
    const { api } = c;
    await api.client.create(PODS, NS, boundPod('on-b', 'b', 1));
    await api.client.create(PODS, NS, boundPod('on-c', 'c', 1));
    c.alive.delete('b');
    c.alive.delete('c');
    const silentAt = Date.now();
    await waitFor(async () => {
      const evs = [...await c.events('EvictionSuppressed', 'b'), ...await c.events('EvictionSuppressed', 'c')];
      return evs.length === 2 ? evs : undefined;
    }, 15_000).then((evs) => {
      for (const e of evs) assert.match(e.message ?? '', /2 of 3 nodes are silent at once: the control plane is probably the one cut off; evictions held/);
    });
    // Well past grace (5 s) + toleration (1 s): both still hold their pods.
    await new Promise((r) => setTimeout(r, Math.max(0, silentAt + 9000 - Date.now())));
    for (const name of ['b', 'c']) {
      const n = await c.node(name);
      assert.equal(readyOf(n), 'Unknown', name);
      assert.equal(hasNoExecute(n), false, `${name} has no unreachable:NoExecute`);
      assert.ok(n.spec?.taints?.some((t) => t.key === UNREACHABLE && t.effect === 'NoSchedule'), `${name} keeps new pods off`);
      assert.ok(await c.getPod(`on-${name}`), `on-${name} stays`);
    }
    assert.equal(await metric('trireme_node_eviction_suppressed'), 2);
    assert.equal(await metric('trireme_node_lifecycle_zone_state', { zone: '', state: 'PartialDisruption' }), 1);
    assert.equal(await metric('trireme_node_lifecycle_zone_silent_nodes', { zone: '' }), 2);

    // b reports again: 1 of 3 silent is an ordinary node loss, c's pod goes.
    c.alive.add('b');
    await c.renew('b');
    await c.postReady('b');
    await waitFor(async () => ((await c.getPod('on-c')) ? undefined : true), 15_000);
    assert.ok(await c.getPod('on-b'), 'the returned node kept its pod');
    assert.equal((await c.events('EvictionResumed', 'c')).length, 1);
    assert.equal(await metric('trireme_node_eviction_suppressed'), 0);
    assert.equal(await metric('trireme_node_evictions_total', { zone: '' }), 1);
  });

  it('a controller manager restarted after its nodes were long silent gives them a grace period before evicting', async () => {
    const { api } = c;
    // c is silent and tainted from the test before; a, b report. Stop the controller manager.
    await cm?.stop();
    cm = undefined;
    await api.client.create(PODS, NS, boundPod('late-on-c', 'c', 1));
    c.alive.delete('a');
    c.alive.delete('b');
    await new Promise((r) => setTimeout(r, 7000)); // all three silent longer than grace + toleration
    c.alive.add('a');
    c.alive.add('b');
    const startedAt = Date.now();
    await startCm();
    // c stays silent: its pod goes, but only once this controller has waited a grace period for it.
    await waitFor(async () => ((await c.getPod('late-on-c')) ? undefined : true), 15_000);
    const gone = Date.now() - startedAt;
    assert.ok(gone >= 5000, `evicted ${gone} ms after the restart`);
    for (const name of ['a', 'b']) assert.equal(hasNoExecute(await c.node(name)), false, `${name} was never tainted`);
  });
});

describe('node lifecycle controller: the guard\'s slow eviction rate (in-process API server)', () => {
  const c = fakeCluster();
  let cm: { stop(): Promise<void> } | undefined;

  before(async () => {
    await c.up(['a', 'b', 'c']);
    cm = await startControllerManager(c.api.client, { logger: silentLogger, workers: 2, nodeLifecycle: { secondaryEvictionRate: 0.5 } });
  });
  after(async () => {
    c.stop();
    await cm?.stop();
    await c.api.close();
  });

  it('two of three silent with --secondary-node-eviction-rate 0.5: one node is let through, the other two seconds later', async () => {
    await c.api.client.create(PODS, NS, boundPod('on-b', 'b', 0));
    await c.api.client.create(PODS, NS, boundPod('on-c', 'c', 0));
    c.alive.delete('b');
    c.alive.delete('c');
    const first = await waitFor(async () => {
      const gone = [(await c.getPod('on-b')) ? undefined : 'b', (await c.getPod('on-c')) ? undefined : 'c'].filter(Boolean);
      return gone.length ? { at: Date.now(), gone } : undefined;
    }, 20_000);
    assert.equal(first.gone.length, 1, 'one at a time');
    const other = first.gone[0] === 'b' ? 'c' : 'b';
    assert.equal((await c.events('EvictionSuppressed', other)).length, 1, `${other} was held meanwhile`);
    await waitFor(async () => ((await c.getPod(`on-${other}`)) ? undefined : true), 10_000);
    const gap = Date.now() - first.at;
    assert.ok(gap >= 1500, `the second node went ${gap} ms after the first (rate 0.5/s)`);
  });
});
