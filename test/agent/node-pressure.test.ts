// Integration: node conditions under an artificial threshold. A real API server in-process, the
// controller manager (node lifecycle controller) and the scheduler, and the real agent with
// `nodefs.available<100%` — a threshold above any filesystem's free space. The Node must show
// DiskPressure=True naming the data dir, get the `disk-pressure:NoSchedule` taint, and a new pod
// must stay unscheduled with the scheduler saying why. The agent is then restarted with the
// default thresholds: DiskPressure goes False, the taint goes, and the pod is scheduled there and
// runs. Everything started is stopped in after(), and the pod is deleted and waited for.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { startAgent, type AgentOptions, type RunningAgent } from '../../src/agent/agent.js';
import { parseThresholds } from '../../src/agent/node/thresholds.js';
import { ensurePki } from '../../src/apiserver/pki.js';
import { resource } from '../../src/client/resources.js';
import { startControllerManager, type RunningControllerManager } from '../../src/controllers/manager.js';
import { isTriremeError } from '../../src/errors.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { silentLogger } from '../../src/util/log.js';
import { pollUntil } from '../../src/util/poll.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';

type PodObj = Pod & KubeObject;
type NodeObj = Node & KubeObject;
const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const DISK_TAINT = 'node.kubernetes.io/disk-pressure';

describe('node pressure conditions and taints (integration)', { timeout: 120_000 }, () => {
  let api: TestApiServer;
  let cm: RunningControllerManager | undefined;
  let scheduler: Scheduler | undefined;
  let agent: RunningAgent | undefined;
  let dataDir: string;
  let base: Omit<AgentOptions, 'nodeConditions'>;

  const node = () => api.client.get<NodeObj>(NODES, undefined, 'np1');
  const cond = (n: NodeObj, type: string) => n.status?.conditions?.find((c) => c.type === type);
  const hasTaint = (n: NodeObj) => (n.spec?.taints ?? []).some((t) => t.key === DISK_TAINT && t.effect === 'NoSchedule');

  before(async () => {
    api = await startTestApiServer('127.0.0.1');
    dataDir = await mkdtemp(path.join(tmpdir(), 'trireme-pressure-'));
    await mkdir(path.join(dataDir, 'manifests'), { recursive: true });
    const pki = await ensurePki(api.dataDir, { sans: ['127.0.0.1'] });
    const serving = await pki.issueServingCert('system:node:np1', ['127.0.0.1']);
    base = {
      client: api.client, nodeName: 'np1', nodeIp: '127.0.0.1', dataDir, kubeletPort: 0, portRange: [41500, 41599],
      servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, caPem: pki.caCertPem, logger: silentLogger,
      timings: { statusPeriodMs: 500, leasePeriodMs: 500, podResyncMs: 1000, staticPodPeriodMs: 500, runtimePollMs: 100 },
    };
    cm = await startControllerManager(api.client, { logger: silentLogger, workers: 2 });
    scheduler = new Scheduler({ client: api.client, logger: silentLogger });
    await scheduler.start();
  });

  after(async () => {
    try {
      await api.client.delete(PODS, 'default', 'after-pressure', { gracePeriodSeconds: 0 }).catch((e: unknown) => {
        if (!isTriremeError(e, 'NotFound')) throw e;
      });
      // With an agent running, the pod is only gone once the agent stopped its container.
      if (agent) {
        await pollUntil('pod after-pressure deleted', async () => {
          try {
            await api.client.get<PodObj>(PODS, 'default', 'after-pressure');
            return false;
          } catch (e) {
            if (isTriremeError(e, 'NotFound')) return true;
            throw e;
          }
        }, { timeoutMs: 20_000, everyMs: 100 });
      }
    } finally {
      await agent?.stop();
      scheduler?.stop();
      await cm?.stop();
      await api.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a free-disk threshold above the free space: DiskPressure=True, the taint, and no pod scheduled there; then back', async () => {
    agent = await startAgent({ ...base, nodeConditions: { thresholds: parseThresholds('nodefs.available<100%'), transitionMs: 0 } });
    const pressured = await pollUntil('node np1 DiskPressure=True and tainted', async () => {
      const n = await node();
      return cond(n, 'DiskPressure')?.status === 'True' && hasTaint(n) ? n : undefined;
    }, { timeoutMs: 15_000, everyMs: 100 });
    const disk = cond(pressured, 'DiskPressure');
    assert.equal(disk?.reason, 'KubeletHasDiskPressure');
    assert.match(disk?.message ?? '', new RegExp(`nodefs\\.available .* on ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\\(threshold 100%\\)`));
    assert.equal(cond(pressured, 'Ready')?.status, 'True', 'pressure does not make the node NotReady');
    assert.equal(cond(pressured, 'MemoryPressure')?.status, 'False');

    await api.client.create<PodObj>(PODS, 'default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after-pressure', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'none', command: ['sleep', '1000'] }], terminationGracePeriodSeconds: 1 },
    });
    // The scheduler's verdict, not the absence of a binding after a while.
    const unscheduled = await pollUntil('pod after-pressure Unschedulable', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'after-pressure');
      const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' && c.reason === 'Unschedulable' ? { p, c } : undefined;
    }, { timeoutMs: 15_000, everyMs: 100 });
    assert.equal(unscheduled.p.spec?.nodeName, undefined);
    assert.match(unscheduled.c.message ?? '', /untolerated taint \{node\.kubernetes\.io\/disk-pressure: \}/);

    // Back: the same agent with the default thresholds.
    await agent.stop();
    agent = await startAgent({ ...base, nodeConditions: { transitionMs: 0 } });
    const healthy = await pollUntil('node np1 DiskPressure=False and untainted', async () => {
      const n = await node();
      return cond(n, 'DiskPressure')?.status === 'False' && !hasTaint(n) ? n : undefined;
    }, { timeoutMs: 15_000, everyMs: 100 });
    assert.equal(cond(healthy, 'DiskPressure')?.reason, 'KubeletHasNoDiskPressure');
    const ran = await pollUntil('pod after-pressure scheduled on np1 and running', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'after-pressure');
      return p.spec?.nodeName === 'np1' && p.status?.phase === 'Running' ? p : undefined;
    }, { timeoutMs: 30_000, everyMs: 100 });
    assert.equal(ran.status?.containerStatuses?.[0]?.state?.running !== undefined, true);
  });
});
