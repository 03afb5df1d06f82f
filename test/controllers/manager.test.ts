// Integration: the controller manager against a real in-process API server (no agent, no
// scheduler). The test plays the kubelet by patching pod status (Running, Ready).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { resource } from '../../src/client/resources.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { silentLogger } from '../../src/util/log.js';
import type { ConfigMapObj, DeploymentLike, NodeLike, PodLike, RsLike } from './fixtures.js';
import { deployment, trackPods, waitFor } from './fixtures.js';
import { isTriremeError } from '../../src/errors.js';
import { kubeTime } from '../../src/api/time.js';

const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const CMS = resource('', 'configmaps');
const DEPLOY = resource('apps', 'deployments');
const RS = resource('apps', 'replicasets');
const DS = resource('apps', 'daemonsets');
const NS = 'default';

describe('controller manager (in-process API server)', () => {
  let api: TestApiServer;
  let cm: { stop(): Promise<void> };
  let kubeletTimer: NodeJS.Timeout | undefined;

  const pods = async (labelSelector?: string) => (await api.client.list<PodLike>(PODS, NS, { labelSelector })).items;
  const activePods = async (labelSelector?: string) => (await pods(labelSelector)).filter((p) => !p.metadata?.deletionTimestamp);
  const rsList = async (labelSelector?: string) => (await api.client.list<RsLike>(RS, NS, { labelSelector })).items;
  const getDeploy = (name: string) => api.client.get<DeploymentLike>(DEPLOY, NS, name);

  /** The fake kubelet: every pod not yet Ready becomes Running and Ready. */
  const markAllReady = async () => {
    for (const p of await activePods()) {
      if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const t = kubeTime(Date.now());
      try {
        await api.client.patch(PODS, NS, p.metadata?.name ?? '', 'merge', {
          status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] },
        }, { subresource: 'status' });
      } catch (e) {
        if (!isTriremeError(e, 'NotFound')) throw e;
      }
    }
  };
  const startKubelet = () => {
    const tick = () => {
      kubeletTimer = setTimeout(() => void markAllReady().catch(() => undefined).finally(() => {
        if (kubeletTimer) tick();
      }), 50);
    };
    tick();
  };
  const stopKubelet = () => {
    if (kubeletTimer) clearTimeout(kubeletTimer);
    kubeletTimer = undefined;
  };

  before(async () => {
    api = await startTestApiServer();
    cm = await startControllerManager(api.client, { logger: silentLogger, workers: 2 });
  });
  after(async () => {
    stopKubelet();
    await cm.stop();
    await api.close();
  });

  it('a Deployment creates its ReplicaSet and pods, owned and revisioned', async () => {
    await api.client.create(DEPLOY, NS, deployment('web', 3));
    const d = await getDeploy('web');
    const [rs] = await waitFor(async () => {
      const l = await rsList('app=web');
      return l.length === 1 && (l[0]?.status?.replicas ?? 0) === 3 ? l : undefined;
    });
    assert.ok(rs);
    const hash = rs.metadata?.labels?.['pod-template-hash'];
    assert.ok(hash);
    assert.equal(rs.metadata?.name, `web-${hash}`);
    const ref = rs.metadata?.ownerReferences?.[0];
    assert.equal(ref?.uid, d.metadata?.uid);
    assert.equal(ref?.controller, true);
    assert.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
    const ps = await activePods('app=web');
    assert.equal(ps.length, 3);
    for (const p of ps) {
      assert.equal(p.metadata?.ownerReferences?.[0]?.uid, rs.metadata?.uid);
      assert.equal(p.metadata?.labels?.['pod-template-hash'], hash);
      assert.ok(p.metadata?.name?.startsWith(`web-${hash}-`));
    }
    await markAllReady();
    const done = await waitFor(async () => {
      const x = await getDeploy('web');
      return x.status?.availableReplicas === 3 && x.status.conditions?.some((c) => c.reason === 'NewReplicaSetAvailable') ? x : undefined;
    });
    assert.equal(done.status?.updatedReplicas, 3);
    assert.equal(done.status?.observedGeneration, done.metadata?.generation);
    assert.equal(done.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
    assert.equal(done.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
  });

  it('scales up and down', async () => {
    await api.client.patch(DEPLOY, NS, 'web', 'merge', { spec: { replicas: 5 } });
    await waitFor(async () => ((await activePods('app=web')).length === 5 ? true : undefined));
    await api.client.patch(DEPLOY, NS, 'web', 'merge', { spec: { replicas: 2 } });
    await waitFor(async () => ((await activePods('app=web')).length === 2 ? true : undefined));
    await markAllReady();
    const d = await waitFor(async () => {
      const x = await getDeploy('web');
      return x.status?.replicas === 2 && x.status.availableReplicas === 2 ? x : undefined;
    });
    assert.equal(d.status?.unavailableReplicas ?? 0, 0);
  });

  it('rolls out with maxUnavailable 0 without dropping below the replica count ready, and undo re-uses the old ReplicaSet', async () => {
    await api.client.patch(DEPLOY, NS, 'web', 'merge', { spec: { replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } });
    startKubelet();
    await waitFor(async () => ((await getDeploy('web')).status?.availableReplicas === 3 ? true : undefined));
    const [oldRs] = await rsList('app=web');
    // Every state the pods go through, from a watch (sampling could miss a short dip).
    let minReady = Infinity;
    const tracker = await trackPods(api.client, NS, (all) => {
      const ready = [...all.values()].filter((p) => p.metadata?.labels?.app === 'web' && !p.metadata.deletionTimestamp
        && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      minReady = Math.min(minReady, ready);
    });
    let d: DeploymentLike;
    try {
      await api.client.patch(DEPLOY, NS, 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'web:2' }] } } } });
      d = await waitFor(async () => {
        const x = await getDeploy('web');
        const s = x.status;
        return (s?.observedGeneration ?? 0) >= (x.metadata?.generation ?? 0) && s?.updatedReplicas === 3 && s.replicas === 3 && s.availableReplicas === 3 ? x : undefined;
      }, 20_000);
      await tracker.caughtUp();
    } finally {
      tracker.stop();
    }
    assert.ok(minReady >= 3, `ready pods dropped to ${minReady}`);
    const sets = await rsList('app=web');
    assert.equal(sets.length, 2);
    const newRs = sets.find((s) => s.metadata?.uid !== oldRs?.metadata?.uid);
    assert.equal(newRs?.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(sets.find((s) => s.metadata?.uid === oldRs?.metadata?.uid)?.spec?.replicas, 0);
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');

    // rollout undo, as kubectl sends it: the old set's template without its hash label.
    const tmpl = structuredClone(oldRs?.spec?.template ?? {});
    delete tmpl.metadata?.labels?.['pod-template-hash'];
    (tmpl.metadata as Record<string, unknown>).creationTimestamp = null;
    await api.client.patch(DEPLOY, NS, 'web', 'json', [{ op: 'replace', path: '/spec/template', value: tmpl }]);
    await waitFor(async () => {
      const x = await getDeploy('web');
      const s = x.status;
      const back = (await rsList('app=web')).find((r) => r.metadata?.uid === oldRs?.metadata?.uid);
      return (s?.observedGeneration ?? 0) >= (x.metadata?.generation ?? 0) && s?.updatedReplicas === 3 && s.replicas === 3
        && back?.spec?.replicas === 3 ? true : undefined;
    }, 20_000);
    stopKubelet();
    const after = await rsList('app=web');
    assert.equal(after.length, 2, 'undo must not create a third ReplicaSet');
    const reused = after.find((s) => s.metadata?.uid === oldRs?.metadata?.uid);
    assert.equal(reused?.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(reused?.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  });

  it('a ReplicaSet never over-creates under a burst of updates', async () => {
    const rs = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'burst' },
      spec: { replicas: 25, selector: { matchLabels: { app: 'burst' } }, template: { metadata: { labels: { app: 'burst' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
    };
    // Every pod ever created for the set, from a watch: an over-creation shows even if the
    // extra pods are deleted again.
    const created = new Set<string>();
    let maxActive = 0;
    const tracker = await trackPods(api.client, NS, (all) => {
      const mine = [...all.values()].filter((p) => p.metadata?.labels?.app === 'burst');
      for (const p of mine) created.add(p.metadata?.name ?? '');
      maxActive = Math.max(maxActive, mine.filter((p) => !p.metadata?.deletionTimestamp).length);
    });
    let status: RsLike['status'];
    try {
      await api.client.create(RS, NS, rs);
      // Touch the ReplicaSet repeatedly while it creates pods: each touch triggers a sync.
      for (let i = 0; i < 20; i++) {
        await api.client.patch(RS, NS, 'burst', 'merge', { metadata: { annotations: { touch: String(i) } } });
      }
      // A spec change after the touches: the sync that reports its generation ran after every
      // touch's sync, and its own creations (if any) were written before that status.
      const marked = await api.client.patch<RsLike>(RS, NS, 'burst', 'merge', { spec: { template: { metadata: { annotations: { touched: 'done' } } } } });
      status = await waitFor(async () => {
        const x = await api.client.get<RsLike>(RS, NS, 'burst');
        return x.status?.replicas === 25 && (x.status.observedGeneration ?? 0) >= (marked.metadata?.generation ?? 0) ? x.status : undefined;
      });
      await tracker.caughtUp();
    } finally {
      tracker.stop();
    }
    assert.equal(created.size, 25, `created ${created.size} pods for 25 replicas`);
    assert.equal(maxActive, 25);
    assert.equal(status?.fullyLabeledReplicas, 25);
  });

  it('adopts a matching orphan pod and releases a pod that stops matching', async () => {
    await api.client.create(PODS, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'burst' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
    // One more pod than wanted: the ReplicaSet adopts the orphan and deletes one.
    await waitFor(async () => ((await activePods('app=burst')).length === 25 ? true : undefined));
    const burst = await api.client.get<RsLike>(RS, NS, 'burst');
    const owned = (await activePods('app=burst')).every((p) => p.metadata?.ownerReferences?.[0]?.uid === burst.metadata?.uid);
    assert.ok(owned);
    const victim = (await activePods('app=burst'))[0]!;
    await api.client.patch(PODS, NS, victim.metadata?.name ?? '', 'merge', { metadata: { labels: { app: 'elsewhere' } } });
    const released = await waitFor(async () => {
      const p = await api.client.get<PodLike>(PODS, NS, victim.metadata?.name ?? '');
      return (p.metadata?.ownerReferences ?? []).length === 0 ? p : undefined;
    });
    assert.equal(released.metadata?.labels?.app, 'elsewhere');
    await waitFor(async () => ((await activePods('app=burst')).length === 25 ? true : undefined));
  });

  it('garbage-collects dependents whose owner is gone', async () => {
    await api.client.create(CMS, NS, {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'dangling', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'nope', uid: '00000000-0000-0000-0000-000000000000' }] },
    } satisfies ConfigMapObj);
    await waitFor(async () => {
      try {
        await api.client.get(CMS, NS, 'dangling');
        return undefined;
      } catch (e) {
        return isTriremeError(e, 'NotFound') ? true : undefined;
      }
    });
    // Background cascade: deleting the ReplicaSet removes its pods.
    await api.client.delete(RS, NS, 'burst', { propagationPolicy: 'Background' });
    await waitFor(async () => ((await pods('app=burst')).length === 0 ? true : undefined), 20_000);
  });

  it('honours orphan and foreground deletion', async () => {
    await api.client.create(DEPLOY, NS, deployment('fg', 2));
    await waitFor(async () => ((await activePods('app=fg')).length === 2 ? true : undefined));
    await api.client.delete(DEPLOY, NS, 'fg', { propagationPolicy: 'Foreground' });
    // While dependents exist the Deployment waits with its finalizer; then everything is gone.
    await waitFor(async () => {
      const left = (await pods('app=fg')).length + (await rsList('app=fg')).length;
      try {
        await getDeploy('fg');
        return undefined;
      } catch (e) {
        return isTriremeError(e, 'NotFound') && left === 0 ? true : undefined;
      }
    }, 20_000);

    await api.client.create(DEPLOY, NS, deployment('orph', 2));
    const [rs] = await waitFor(async () => {
      const l = await rsList('app=orph');
      return l.length === 1 && (await activePods('app=orph')).length === 2 ? l : undefined;
    });
    await api.client.delete(DEPLOY, NS, 'orph', { propagationPolicy: 'Orphan' });
    await waitFor(async () => {
      try {
        await getDeploy('orph');
        return undefined;
      } catch (e) {
        return isTriremeError(e, 'NotFound') ? true : undefined;
      }
    });
    const kept = await api.client.get<RsLike>(RS, NS, rs?.metadata?.name ?? '');
    assert.deepEqual(kept.metadata?.ownerReferences ?? [], []);
    assert.equal((await activePods('app=orph')).length, 2);
  });

  it('a DaemonSet puts one pinned pod on each eligible node', async () => {
    for (const [name, labels] of [['n1', { disk: 'ssd' }], ['n2', { disk: 'ssd' }], ['n3', {}]] as const) {
      await api.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } } satisfies NodeLike);
    }
    await api.client.create(DS, NS, {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'a:1' }] } },
      },
    });
    const ps = await waitFor(async () => {
      const l = await activePods('app=agent');
      return l.length === 2 ? l : undefined;
    });
    const targets = ps.map((p) => p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0]).sort();
    assert.deepEqual(targets, ['n1', 'n2']);
    assert.ok(ps.every((p) => p.metadata?.labels?.['controller-revision-hash']));
    assert.ok(ps.every((p) => p.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable')));
    const status = await waitFor(async () => {
      const x = await api.client.get<{ status?: { desiredNumberScheduled?: number; currentNumberScheduled?: number } } & Record<string, unknown>>(DS, NS, 'agent');
      return x.status?.currentNumberScheduled === 2 ? x.status : undefined;
    });
    assert.equal(status.desiredNumberScheduled, 2);
  });
});
