// Integration: the node fence and self-fencing with a real `trireme agent` process joined to a
// real API server (in-process, 127.0.21.1; the node is 127.0.21.3).
//
// 1. SIGSTOP the agent for longer than its fence threshold. Meanwhile do what the node lifecycle
//    controller does to a silent node: mark its Ready condition Unknown and delete its pod with
//    gracePeriodSeconds 0 (the replacement would run elsewhere). SIGCONT: the old container
//    (which ignores SIGTERM, so only the fence's short grace ends it) is gone before the agent
//    writes anything again — its exit is recorded before the first Lease renewTime after the
//    SIGCONT, and it is dead when Ready=True is first seen — and it never starts again.
// 2. Kill the API server: the pod annotated trireme.io/self-fence=true is stopped once the agent
//    could not report for --self-fence-after; the pod without the annotation keeps running.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { parseKubeTime } from '../../src/api/time.js';
import { resource } from '../../src/client/resources.js';
import { ChildTracker } from '../../src/launch/children.js';
import { launchCli, logTail, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { pollUntil } from '../../src/util/poll.js';
import { killContainers } from '../e2e/harness/containers.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { processGone } from '../helpers/process.js';

type PodObj = Pod & KubeObject;
type NodeObj = Node & KubeObject;
const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const LEASES = resource('coordination.k8s.io', 'leases');
const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const NODE = 'fence-n1';
const NODE_IP = '127.0.21.3';

const alive = (pid: number): boolean => !processGone(pid);

describe('node fence (integration, real agent process)', { timeout: 150_000 }, () => {
  let api: TestApiServer;
  let root: string;
  let agentDir: string;
  let agentLog: string;
  const tracker = new ChildTracker();
  let agent: LaunchedProcess | undefined;

  before(async () => {
    tracker.installExitHooks();
    api = await startTestApiServer('127.0.21.1');
    root = await mkdtemp(path.join(tmpdir(), 'trireme-fence-'));
    agentDir = path.join(root, 'agent');
    agentLog = path.join(root, 'agent.log');
    const token = readFileSync(path.join(api.dataDir, 'token'), 'utf8').trim();
    agent = await launchCli({
      entry: CLI_MAIN, dataDir: agentDir, logFile: agentLog, tracker,
      args: ['agent', '--server', api.server.url, '--token', token, '--data-dir', agentDir, '--node-name', NODE, '--node-ip', NODE_IP,
        '--kubelet-port', '0', '--port-range', '21100-21149', '--log-format', 'json', '--fence-after', '1s', '--self-fence-after', '2s'],
    });
    await pollUntil('the node Ready', () => nodeReady(), { timeoutMs: 60_000, everyMs: 100 }).catch(() => fail('the node never became Ready'));
  });

  after(async () => {
    if (agent?.running()) {
      process.kill(agent.pid, 'SIGCONT');
      agent.kill();
      await agent.exited;
    }
    tracker.killAll();
    killContainers(agentDir);
    await api.close().catch(() => undefined);
    if (process.env.KEEP_FENCE_TEST === undefined) await rm(root, { recursive: true, force: true });
    else process.stderr.write(`kept ${root}\n`);
  });

  const fail = (msg: string): never => assert.fail(`${msg}\n--- agent log ---\n${logTail(agentLog, 60)}`);

  async function nodeReady(): Promise<boolean> {
    const n = await api.client.get<NodeObj>(NODES, undefined, NODE).catch(() => undefined);
    return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  }

  async function runPod(name: string, command: string, annotations: Record<string, string> = {}): Promise<{ uid: string; pid: number }> {
    const pod = await api.client.create<PodObj>(PODS, 'default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', annotations },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 60, containers: [{ name: 'c', image: 'none', command: ['/bin/sh', '-c', command] }] },
    });
    const uid = pod.metadata!.uid!;
    await pollUntil(`${name} Running`, async () => (await api.client.get<PodObj>(PODS, 'default', name)).status?.phase === 'Running', { timeoutMs: 30_000, everyMs: 100 })
      .catch(() => fail(`${name} never ran`));
    const state = JSON.parse(await readFile(path.join(agentDir, 'agent', 'pods', uid, 'containers', 'c', '0', 'state.json'), 'utf8')) as { pid: number };
    return { uid, pid: state.pid };
  }

  it('SIGSTOP past the threshold, pod deleted meanwhile: the old container is gone before the node reports Ready again', async (t) => {
    // Ignores SIGTERM (inherited by its children): only a SIGKILL after a grace period ends it.
    const old = await runPod('stale', "trap '' TERM; while :; do sleep 0.2; done");

    process.kill(agent!.pid, 'SIGSTOP');
    let contAt = Infinity;
    const stoppedAt = Date.now();
    // What the node lifecycle controller does to a silent node and its pods.
    const node = await api.client.get<NodeObj>(NODES, undefined, NODE);
    const conditions = (node.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' } : c));
    await api.client.patch(NODES, undefined, NODE, 'merge', { status: { conditions } }, { subresource: 'status' });
    await api.client.delete(PODS, 'default', 'stale', { gracePeriodSeconds: 0, preconditions: { uid: old.uid } });
    await new Promise((r) => setTimeout(r, Math.max(0, 6_000 - (Date.now() - stoppedAt))));
    assert.ok(alive(old.pid), 'the container ran on while its agent was stopped');
    contAt = Date.now();

    // Sample the Lease from before the SIGCONT on: the first renewTime after it.
    const sampler = pollUntil('a Lease renewal after the SIGCONT', async () => {
      const renew = parseKubeTime((await api.client.get<Lease & KubeObject>(LEASES, 'kube-node-lease', NODE)).spec?.renewTime);
      return renew !== undefined && renew > contAt ? renew : undefined;
    }, { timeoutMs: 30_000, everyMs: 10 });
    // Watch the container closely from the SIGCONT on: an upper bound of when it died.
    // The last moment it was seen alive is a lower bound of its death: it must come before the renewal.
    let deathSeen: number | undefined;
    let lastAlive: number | undefined;
    const watcher = pollUntil('the stale container to die', () => {
      if (alive(old.pid)) {
        lastAlive = Date.now();
        return undefined;
      }
      return (deathSeen = Date.now());
    }, { timeoutMs: 30_000, everyMs: 2 });
    process.kill(agent!.pid, 'SIGCONT');
    const readySeen = await pollUntil('the node Ready again', async () => ((await nodeReady()) ? Date.now() : undefined), { timeoutMs: 30_000, everyMs: 10 })
      .catch(() => fail('the node never reported Ready after SIGCONT'));
    const deadAtReady = !alive(old.pid);
    await watcher.catch(() => fail('the stale container never died'));
    const renewals = await sampler.catch(() => fail('no Lease renewal after the SIGCONT'));
    t.diagnostic(`after SIGCONT: container seen dead at +${deathSeen! - contAt} ms, first Lease renewal at +${renewals - contAt} ms, Ready seen at +${readySeen - contAt} ms`);
    assert.ok(deadAtReady, 'the deleted pod\'s container is dead by the time Ready=True is seen');
    assert.ok(lastAlive === undefined || lastAlive < renewals, `the container was still alive at +${lastAlive! - contAt} ms, after the agent renewed its Lease (+${renewals - contAt} ms)`);
    const log = readFileSync(agentLog, 'utf8');
    assert.match(log, /fence: stopped the pods deleted or replaced/);
    // Never started again by a stale informer event; its directory is removed.
    await pollUntil('the pod directory removed', () => !existsSync(path.join(agentDir, 'agent', 'pods', old.uid)), { timeoutMs: 15_000 })
      .catch(() => fail('the fenced pod\'s directory stayed'));
    const pods = readdirSync(path.join(agentDir, 'agent', 'pods'));
    assert.ok(!pods.includes(old.uid));
  });

  it('an unreachable API: the self-fencing pod is stopped after --self-fence-after, the other keeps running', async (t) => {
    const sf = await runPod('single-writer', 'exec sleep 1000', { 'trireme.io/self-fence': 'true' });
    const plain = await runPod('plain', 'exec sleep 1000');
    const cut = Date.now();
    await api.close();
    const diedAt = await pollUntil('the self-fencing pod stopped', () => (alive(sf.pid) ? undefined : Date.now()), { timeoutMs: 20_000, everyMs: 50 })
      .catch(() => fail('the self-fencing pod kept running'));
    t.diagnostic(`self-fencing pod stopped ${diedAt - cut} ms after the API went away`);
    assert.ok(alive(plain.pid), 'the pod without the annotation keeps running');
    assert.match(readFileSync(agentLog, 'utf8'), /self-fence: no node report reached the API/);
  });
});
