// Integration: the heartbeat with the real host reader against a real API server and the
// controller manager, on a node whose runtime cannot start containers (its pods dir is a file,
// which no one can write below, not even root): Ready=False with reason KubeletNotReady naming
// the problem, and the node lifecycle controller's not-ready taints (NoSchedule and NoExecute).
// Heartbeats go on without a transition while nothing changes; once the pods dir is fixed,
// Ready=True and the taints go.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../src/api/object.js';
import { NodeHeartbeat } from '../../../src/agent/node/heartbeat.js';
import { NodeReader, readHostFacts } from '../../../src/agent/node/readings.js';
import { DEFAULT_THRESHOLDS, NO_RESERVATION } from '../../../src/agent/node/thresholds.js';
import { resource } from '../../../src/client/resources.js';
import { startControllerManager, type RunningControllerManager } from '../../../src/controllers/manager.js';
import { systemClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';
import { pollUntil } from '../../../src/util/poll.js';
import { startTestApiServer, type TestApiServer } from '../../helpers/api-server.js';

type NodeObj = Node & KubeObject;
const NODES = resource('', 'nodes');
const NOT_READY = 'node.kubernetes.io/not-ready';

describe('node heartbeat: Ready=False when the runtime cannot start containers (integration)', { timeout: 60_000 }, () => {
  let api: TestApiServer;
  let cm: RunningControllerManager | undefined;
  let hb: NodeHeartbeat | undefined;
  let dir: string;

  before(async () => {
    api = await startTestApiServer('127.0.0.1');
    dir = await mkdtemp(path.join(tmpdir(), 'trireme-heartbeat-'));
    cm = await startControllerManager(api.client, { logger: silentLogger, workers: 2 });
  });
  after(async () => {
    hb?.stop();
    await cm?.stop();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the problem, gets the not-ready taints, and recovers when it is fixed', async () => {
    const pods = path.join(dir, 'pods');
    await writeFile(pods, 'not a directory');
    const reader = new NodeReader({ dataDir: dir, logDir: dir, podsDir: pods, shim: { file: process.execPath, args: [] }, logger: silentLogger });
    hb = new NodeHeartbeat({
      client: api.client, clock: systemClock, logger: silentLogger, facts: await readHostFacts(), read: () => reader.read(),
      conditions: { thresholds: DEFAULT_THRESHOLDS, reserved: NO_RESERVATION, transitionMs: 0 },
      params: { nodeName: 'hb1', nodeIp: '127.0.0.1', kubeletPort: 10250, version: '0.0.0', runtimeName: 'process', runtimeVersion: '0', maxPods: 110 },
      statusPeriodMs: 300, leasePeriodMs: 300,
    });
    await hb.start();
    const ready = (n: NodeObj) => n.status?.conditions?.find((c) => c.type === 'Ready');
    const taintKeys = (n: NodeObj) => (n.spec?.taints ?? []).filter((t) => t.key === NOT_READY).map((t) => t.effect).sort();

    const sick = await pollUntil('node hb1 Ready=False with both not-ready taints', async () => {
      const n = await api.client.get<NodeObj>(NODES, undefined, 'hb1');
      return ready(n)?.status === 'False' && taintKeys(n).join() === 'NoExecute,NoSchedule' ? n : undefined;
    }, { timeoutMs: 15_000, everyMs: 100 });
    assert.equal(ready(sick)?.reason, 'KubeletNotReady');
    assert.match(ready(sick)?.message ?? '', /^container runtime cannot start containers: data dir .*pods is not writable: .*ENOTDIR/);
    const sickSince = ready(sick)?.lastTransitionTime;

    // Heartbeats go on without a transition while nothing changes.
    const later = await pollUntil('a newer heartbeat', async () => {
      const n = await api.client.get<NodeObj>(NODES, undefined, 'hb1');
      return (ready(n)?.lastHeartbeatTime ?? '') > (ready(sick)?.lastHeartbeatTime ?? '') ? n : undefined;
    }, { timeoutMs: 15_000, everyMs: 200 });
    assert.equal(ready(later)?.lastTransitionTime, sickSince);

    await rm(pods);
    await mkdir(pods);
    const well = await pollUntil('node hb1 Ready=True without not-ready taints', async () => {
      const n = await api.client.get<NodeObj>(NODES, undefined, 'hb1');
      return ready(n)?.status === 'True' && taintKeys(n).length === 0 ? n : undefined;
    }, { timeoutMs: 15_000, everyMs: 100 });
    assert.equal(ready(well)?.reason, 'KubeletReady');
    assert.ok(well.status?.capacity?.['ephemeral-storage'], 'ephemeral-storage capacity from the data dir filesystem');
  });
});
