// Integration: Deployment rollout features (pause/resume, restart, Recreate, history limit,
// progress deadline) against a real in-process API server; the test plays the kubelet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { resource } from '../../src/client/resources.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { silentLogger } from '../../src/util/log.js';
import { isTriremeError } from '../../src/errors.js';
import { deployment, trackPods, waitFor, type DeploymentLike, type PodLike, type RsLike } from './fixtures.js';
import { kubeTime } from '../../src/api/time.js';

const PODS = resource('', 'pods');
const DEPLOY = resource('apps', 'deployments');
const RS = resource('apps', 'replicasets');
const NS = 'default';

describe('deployment rollouts (in-process API server)', () => {
  let api: TestApiServer;
  let cm: { stop(): Promise<void> };
  let kubelet = true;
  let loop: Promise<void> | undefined;

  const activePods = async (sel: string) => (await api.client.list<PodLike>(PODS, NS, { labelSelector: sel })).items.filter((p) => !p.metadata?.deletionTimestamp);
  const rsList = async (sel: string) => (await api.client.list<RsLike>(RS, NS, { labelSelector: sel })).items;
  const getDeploy = (name: string) => api.client.get<DeploymentLike>(DEPLOY, NS, name);
  const settled = (name: string, replicas: number) => waitFor(async () => {
    const d = await getDeploy(name);
    const s = d.status;
    return (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s?.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas ? d : undefined;
  }, 15_000);

  before(async () => {
    api = await startTestApiServer();
    cm = await startControllerManager(api.client, { logger: silentLogger, workers: 2 });
    // The fake kubelet: pods whose name does not start with "stuck-" become Running and Ready.
    loop = (async () => {
      while (kubelet) {
        try {
          for (const p of (await api.client.list<PodLike>(PODS, NS)).items) {
            if (p.metadata?.deletionTimestamp || p.metadata?.name?.startsWith('stuck-')) continue;
            if (p.status?.conditions?.some((c) => c.type === 'Ready')) continue;
            await api.client.patch(PODS, NS, p.metadata?.name ?? '', 'merge', {
              status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: kubeTime(Date.now()) }] },
            }, { subresource: 'status' }).catch((e: unknown) => {
              if (!isTriremeError(e, 'NotFound')) throw e;
            });
          }
        } catch {
          // the server may be stopping
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  });
  after(async () => {
    kubelet = false;
    await loop;
    await cm.stop();
    await api.close();
  });

  it('a paused Deployment does not roll out until resumed', async () => {
    await api.client.create(DEPLOY, NS, deployment('paused', 2));
    await settled('paused', 2);
    await api.client.patch(DEPLOY, NS, 'paused', 'strategic', { spec: { paused: true } });
    await api.client.patch(DEPLOY, NS, 'paused', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'web:2' }] } } } });
    const d = await waitFor(async () => {
      const x = await getDeploy('paused');
      return x.status?.conditions?.some((c) => c.reason === 'DeploymentPaused') && (x.status.observedGeneration ?? 0) >= (x.metadata?.generation ?? 0) ? x : undefined;
    });
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.status, 'Unknown');
    // The sync that reported this generation saw the new template: a new ReplicaSet it made
    // would have been written before that status, and this server's lists see its own writes.
    assert.equal((await rsList('app=paused')).length, 1);
    // A later sync (scaling is what a paused Deployment still does) must not roll out either:
    // once the scale has landed, that sync has run.
    await api.client.patch(DEPLOY, NS, 'paused', 'merge', { spec: { replicas: 3 } });
    const scaled = await waitFor(async () => {
      const sets = await rsList('app=paused');
      const x = await getDeploy('paused');
      return sets.some((s) => s.spec?.replicas === 3) && (x.status?.observedGeneration ?? 0) >= (x.metadata?.generation ?? 0) ? sets : undefined;
    });
    assert.equal(scaled.length, 1);
    await api.client.patch(DEPLOY, NS, 'paused', 'merge', { spec: { paused: false, replicas: 2 } });
    await settled('paused', 2);
    assert.equal((await rsList('app=paused')).length, 2);
  });

  it('rollout restart makes a new ReplicaSet with the next revision', async () => {
    await api.client.patch(DEPLOY, NS, 'paused', 'strategic', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } } } });
    await settled('paused', 2);
    const sets = await rsList('app=paused');
    assert.equal(sets.length, 3);
    const revs = sets.map((s) => Number(s.metadata?.annotations?.['deployment.kubernetes.io/revision'])).sort();
    assert.deepEqual(revs, [1, 2, 3]);
  });

  it('Recreate removes every old pod before starting new ones', async () => {
    const d = deployment('rec', 2);
    d.spec!.strategy = { type: 'Recreate' };
    await api.client.create(DEPLOY, NS, d);
    await settled('rec', 2);
    const [old] = await rsList('app=rec');
    // Every state the pods go through, from a watch: never two owners' pods alive at once.
    const tracker = await trackPods(api.client, NS, (all) => {
      const owners = new Set([...all.values()].filter((p) => p.metadata?.labels?.app === 'rec' && !p.metadata.deletionTimestamp).map((p) => p.metadata?.ownerReferences?.[0]?.uid));
      assert.ok(owners.size <= 1, `old and new pods ran at the same time (owners ${[...owners].join(', ')})`);
    });
    try {
      await api.client.patch(DEPLOY, NS, 'rec', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'web:2' }] } } } });
      await settled('rec', 2);
      await tracker.caughtUp();
    } finally {
      tracker.stop();
    }
    const pods = await activePods('app=rec');
    assert.ok(pods.every((p) => p.metadata?.ownerReferences?.[0]?.uid !== old?.metadata?.uid));
  });

  it('keeps at most revisionHistoryLimit old ReplicaSets', async () => {
    const d = deployment('hist', 1);
    d.spec!.revisionHistoryLimit = 1;
    await api.client.create(DEPLOY, NS, d);
    await settled('hist', 1);
    for (const image of ['web:2', 'web:3', 'web:4']) {
      await api.client.patch(DEPLOY, NS, 'hist', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } });
      await settled('hist', 1);
    }
    const sets = await waitFor(async () => {
      const l = await rsList('app=hist');
      return l.length === 2 ? l : undefined;
    });
    const revs = sets.map((s) => Number(s.metadata?.annotations?.['deployment.kubernetes.io/revision'])).sort();
    assert.deepEqual(revs, [3, 4]);
  });

  it('reports ProgressDeadlineExceeded when pods never become ready', async () => {
    const d = deployment('stuck', 1);
    d.spec!.progressDeadlineSeconds = 1;
    d.spec!.template.metadata!.name = undefined;
    await api.client.create(DEPLOY, NS, d);
    // Pods of this deployment are named stuck-…: the fake kubelet leaves them unready.
    const out = await waitFor(async () => {
      const x = await getDeploy('stuck');
      const p = x.status?.conditions?.find((c) => c.type === 'Progressing');
      return p?.reason === 'ProgressDeadlineExceeded' ? p : undefined;
    }, 10_000);
    assert.equal(out.status, 'False');
    const x = await getDeploy('stuck');
    assert.equal(x.status?.conditions?.find((c) => c.type === 'Available')?.status, 'False');
  });
});
