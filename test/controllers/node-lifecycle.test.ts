// Integration: the node lifecycle controller inside the controller manager against a real
// in-process API server. The test plays two agents: node `alive` renews its Lease, node
// `silent` never does after registration. Measures the time from the silent node's last
// heartbeat to the deletion of its pods.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { kubeTime, microTime } from '../../src/api/time.js';
import { resource } from '../../src/client/resources.js';
import { startControllerManager } from '../../src/controllers/manager.js';
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

describe('node lifecycle controller (in-process API server)', () => {
  let api: TestApiServer;
  let cm: { stop(): Promise<void> };
  let agentTimer: NodeJS.Timeout | undefined;
  const alive = new Set<string>(['alive']);

  const renew = async (name: string) => {
    await api.client.patch(LEASES, 'kube-node-lease', name, 'merge', { spec: { renewTime: microTime(Date.now()) } });
  };
  const postReady = async (name: string) => {
    const now = kubeTime(Date.now());
    await api.client.patch(NODES, undefined, name, 'merge', {
      status: {
        conditions: ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
          type, status: type === 'Ready' ? 'True' : 'False', reason: type === 'Ready' ? 'KubeletReady' : 'KubeletHasSufficient',
          lastHeartbeatTime: now, lastTransitionTime: now,
        })),
      },
    }, { subresource: 'status' });
  };
  const register = async (name: string) => {
    await api.client.create<NodeLike>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    await postReady(name);
    await api.client.create<LeaseObj>(LEASES, 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 10, renewTime: microTime(Date.now()) },
    });
  };
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
  const getPod = async (name: string) => {
    try {
      return await api.client.get<PodLike>(PODS, NS, name);
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return undefined;
      throw e;
    }
  };

  before(async () => {
    api = await startTestApiServer();
    await register('alive');
    await register('silent');
    // The fake agent of `alive`: renews its lease every 500 ms (the real one: every 2 s).
    const tick = () => {
      agentTimer = setTimeout(() => {
        void Promise.all([...alive].map(renew)).catch(() => undefined).finally(() => {
          if (agentTimer) tick();
        });
      }, 500);
    };
    tick();
    cm = await startControllerManager(api.client, { logger: silentLogger, workers: 2 });
  });
  after(async () => {
    if (agentTimer) clearTimeout(agentTimer);
    agentTimer = undefined;
    await cm.stop();
    await api.close();
  });

  it('a silent node goes Unknown and unreachable; its pods go after tolerationSeconds; it recovers', async () => {
    const silentLease = await api.client.get<LeaseObj>(LEASES, 'kube-node-lease', 'silent');
    const lastHeartbeat = Date.parse(silentLease.spec?.renewTime ?? '');
    await api.client.create(PODS, NS, boundPod('on-alive', 'alive', 2));
    await api.client.create(PODS, NS, boundPod('on-silent', 'silent', 2));
    await api.client.create(PODS, NS, boundPod('on-silent-forever', 'silent'));

    const tainted = await waitFor(async () => {
      const n = await api.client.get<NodeLike>(NODES, undefined, 'silent');
      return n.spec?.taints?.some((t) => t.key === UNREACHABLE && t.effect === 'NoExecute') ? n : undefined;
    }, 15_000);
    const taintedAt = Date.now();
    const ready = tainted.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusUnknown');
    assert.equal(ready?.message, 'Kubelet stopped posting node status.');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(tainted.status?.conditions?.find((c) => c.type === type)?.status, 'Unknown', type);
    }
    assert.ok(taintedAt - lastHeartbeat >= 8000, `tainted ${taintedAt - lastHeartbeat} ms after the last heartbeat`);

    await waitFor(async () => ((await getPod('on-silent')) ? undefined : true), 10_000);
    const deletedAt = Date.now();
    // tolerationSeconds 2: the eviction comes 2 s after the controller decided to taint. That
    // decision is no earlier than the taint's timeAdded (whole seconds, truncated) and no
    // earlier than 8 s after the last heartbeat; a read that did not see the taint yet bounds
    // nothing, since the decision precedes the write's commit.
    const taint = tainted.spec?.taints?.find((t) => t.key === UNREACHABLE && t.effect === 'NoExecute');
    const decidedNoEarlier = Math.max(lastHeartbeat + 8000, Date.parse(taint?.timeAdded ?? ''));
    assert.ok(deletedAt - decidedNoEarlier >= 2000, `deleted ${deletedAt - decidedNoEarlier} ms after the earliest the taint can have been decided`);
    console.log(`# timeline: last heartbeat → tainted ${((taintedAt - lastHeartbeat) / 1000).toFixed(1)} s → pod deleted ${((deletedAt - lastHeartbeat) / 1000).toFixed(1)} s`);

    const forever = await getPod('on-silent-forever');
    assert.ok(forever && !forever.metadata?.deletionTimestamp, 'a pod tolerating forever stays');
    assert.ok(await getPod('on-alive'), 'pods on the healthy node stay');
    const aliveNode = await api.client.get<NodeLike>(NODES, undefined, 'alive');
    assert.deepEqual(aliveNode.spec?.taints ?? [], []);
    assert.equal(aliveNode.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

    await waitFor(async () => {
      const evs = (await api.client.list<KubeObject & { reason?: string; involvedObject?: { name?: string } }>(EVENTS, NS)).items;
      return evs.some((e) => e.reason === 'TaintManagerEviction' && e.involvedObject?.name === 'on-silent') ? true : undefined;
    });

    // The agent comes back: lease renewed and Ready=True posted; the taint goes.
    alive.add('silent');
    await renew('silent');
    await postReady('silent');
    await waitFor(async () => {
      const n = await api.client.get<NodeLike>(NODES, undefined, 'silent');
      return (n.spec?.taints ?? []).length === 0 ? true : undefined;
    });
    assert.ok(await getPod('on-silent-forever'));
  });

  it('cordon adds unschedulable:NoSchedule, uncordon removes it', async () => {
    await api.client.patch(NODES, undefined, 'alive', 'merge', { spec: { unschedulable: true } });
    await waitFor(async () => {
      const n = await api.client.get<NodeLike>(NODES, undefined, 'alive');
      return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule') ? true : undefined;
    });
    await api.client.patch(NODES, undefined, 'alive', 'merge', { spec: { unschedulable: false } });
    await waitFor(async () => ((await api.client.get<NodeLike>(NODES, undefined, 'alive')).spec?.taints ?? []).length === 0 ? true : undefined);
  });
});
