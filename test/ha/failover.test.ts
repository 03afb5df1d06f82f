// The whole HA promise in one scenario, with real processes only, on 127.0.8.x: three servers on a
// managed etcd (`--cluster-init` on s1, `--server/--token` on s2 and s3, no local agents),
// `trireme lb` in front of them, two `trireme agent`s joined through s1 (each with its own
// client-side balancer), a Deployment of two real processes.
// - Under a steady write load through the balancer, kill -9 the server (and its etcd member)
//   that holds the controller-manager Lease: every acknowledged write is there afterwards; a new
//   controller manager leads (on another server); a scale-up made at the moment of the kill is
//   carried out; the Deployment never has more pods than replicas + maxSurge; both agents'
//   nodes stay Ready; the killed server rejoins with its data dir and no join flags.
// - Kill -9 the scheduler's leader: a pod created at that moment runs.
// - Two of three servers killed: a write is a clean 503 saying the store has no quorum (or, for
//   one proposed before the leader noticed, a 504 whose outcome is unknown), in bounded time;
//   one server back, writes work again by themselves.
// What it does not check: timings (bench/failover measures them).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { ClusterStatus } from '../../src/api/cluster-status.js';
import type { KubeObject } from '../../src/api/object.js';
import { findResource, type ResourceInfo } from '../../src/api/resources.js';
import { ApiClient } from '../../src/client/api-client.js';
import { loadKubeconfig } from '../../src/client/config.js';
import { isTriremeError } from '../../src/errors.js';
import { launchCli, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { deps, needs } from '../helpers/require-dep.js';
import { killAll, sleep, waitFor } from '../e2e/harness.js';
import { agentFlagArgs } from '../e2e/harness/node-flags.js';
import { cliMain, repoRoot } from '../e2e/harness/paths.js';
import { trackAgentDataDir, tracker } from '../e2e/harness/tracking.js';
import { HaServer, runCli } from './servers.js';

const LB_IP = '127.0.8.10';
const AGENT_IPS = ['127.0.8.81', '127.0.8.82'] as const;

const res = (group: string, version: string, resource: string): ResourceInfo => {
  const r = findResource(group, version, resource);
  if (!r) throw new Error(`no resource ${group}/${version}/${resource}`);
  return r;
};
const CONFIGMAPS = res('', 'v1', 'configmaps');
const PODS = res('', 'v1', 'pods');
const NODES = res('', 'v1', 'nodes');
const LEASES = res('coordination.k8s.io', 'v1', 'leases');
const DEPLOYMENTS = res('apps', 'v1', 'deployments');

/** Creates ConfigMaps one after the other through `client` until stopped (bounded), recording what was acknowledged. */
class WriteLoop {
  readonly acked: string[] = [];
  readonly failures: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(client: ApiClient, prefix: string, maxAttempts = 20_000) {
    this.done = (async () => {
      for (let n = 0; n < maxAttempts && !this.stopped; n++) {
        const name = `${prefix}-${n}`;
        try {
          await client.create(CONFIGMAPS, 'default', { metadata: { name }, data: { n: String(n) } } as KubeObject);
          this.acked.push(name);
        } catch (e) {
          // AlreadyExists after a retried request means it was written: count it as acknowledged.
          if (isTriremeError(e, 'AlreadyExists')) this.acked.push(name);
          else {
            this.failures.push(`${name}: ${(e as Error).message}`);
            await sleep(100);
          }
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Samples, every `everyMs` until stopped, what must hold during a failover. */
class Watchdog {
  maxActivePods = 0;
  readonly notReady: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(client: ApiClient, nodes: readonly string[], everyMs = 300) {
    this.done = (async () => {
      for (let i = 0; i < 100_000 && !this.stopped; i++) {
        try {
          const pods = await client.list<Pod & KubeObject>(PODS, 'default', { labelSelector: 'app=web' });
          const active = pods.items.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
          this.maxActivePods = Math.max(this.maxActivePods, active.length);
          const list = await client.list<Node & KubeObject>(NODES);
          for (const name of nodes) {
            const node = list.items.find((n) => n.metadata?.name === name);
            const ready = node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
            if (ready !== 'True') this.notReady.push(`${new Date().toISOString()} ${name} Ready=${ready ?? 'absent'}`);
          }
        } catch {
          // An unanswered sample is not a violation: the write loop counts unavailability.
        }
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

async function holder(client: ApiClient, lease: string): Promise<string> {
  return waitFor(`lease ${lease} to have a holder`, async () => {
    const l = await client.get<Lease & KubeObject>(LEASES, 'kube-system', lease).catch(() => undefined);
    return l?.spec?.holderIdentity || undefined;
  }, 60_000, 200);
}

describe('failover of a three-server cluster under load', { skip: needs(deps.etcd, deps.kubectl), timeout: 1_200_000 }, () => {
  let root = '';
  const servers: HaServer[] = [];
  const agents: LaunchedProcess[] = [];
  let lbProc: LaunchedProcess | undefined;
  let client: ApiClient;
  const sanArgs = ['--tls-san', LB_IP];

  const serverOf = (identity: string): HaServer => {
    const s = servers.find((x) => identity.startsWith(`${x.name}_`));
    if (!s) throw new Error(`no server holds identity ${identity}`);
    return s;
  };

  async function clusterStatus(via: HaServer): Promise<ClusterStatus> {
    const r = await runCli(['cluster', 'status', '--kubeconfig', via.kubeconfig, '-o', 'json']);
    if (r.code !== 0) throw new Error(`cluster status: ${r.stderr}`);
    return JSON.parse(r.stdout) as ClusterStatus;
  }

  async function waitHealthyMembers(via: HaServer, n: number): Promise<void> {
    await waitFor(`${n} healthy voting store members`, async () => {
      const st = await clusterStatus(via).catch(() => undefined);
      const voters = st?.store.members.filter((m) => m.healthy && !m.isLearner) ?? [];
      return voters.length === n || undefined;
    }, 120_000, 1000);
  }

  async function readyPods(selector: string): Promise<Pod[]> {
    const pods = await client.list<Pod & KubeObject>(PODS, 'default', { labelSelector: selector });
    return pods.items.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-failover-'));
    for (const [i, name] of ['s1', 's2', 's3'].entries()) servers.push(await HaServer.create(root, name, `127.0.8.${i + 1}`));
    const [s1, s2, s3] = servers as [HaServer, HaServer, HaServer];
    await s1.start(['--cluster-init', ...sanArgs]);
    const token = (await readFile(join(s1.dataDir, 'token'), 'utf8')).trim();
    await s2.start(['--server', s1.url, '--token', token, ...sanArgs]);
    await s3.start(['--server', s1.url, '--token', token, ...sanArgs]);

    const lbDir = join(root, 'lb');
    lbProc = await launchCli({
      entry: cliMain, cwd: repoRoot, tracker, dataDir: lbDir, logFile: join(root, 'lb.log'),
      args: ['lb', '--listen', `${LB_IP}:0`, '--data-dir', lbDir, ...servers.flatMap((s) => ['--server', s.url])],
    });
    const lb = lbProc.ready.lb;
    if (!lb) throw new Error('trireme lb wrote no listener to its ready file');
    client = new ApiClient({ ...loadKubeconfig(s1.kubeconfig), server: `https://${LB_IP}:${lb.port}` }, { requestTimeoutMs: 20_000 });

    for (const [i, ip] of AGENT_IPS.entries()) {
      const dataDir = join(root, `a${i + 1}`);
      trackAgentDataDir(dataDir);
      agents.push(await launchCli({
        entry: cliMain, cwd: repoRoot, tracker, dataDir, logFile: join(root, `a${i + 1}.log`), readyTimeoutMs: 120_000,
        args: ['agent', '--server', s1.url, '--token', token, '--data-dir', dataDir, ...agentFlagArgs(ip, { nodeName: `a${i + 1}` })],
      }));
    }
    await waitFor('both agents Ready', async () => {
      const list = await client.list<Node & KubeObject>(NODES).catch(() => undefined);
      const ready = list?.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name) ?? [];
      return ['a1', 'a2'].every((n) => ready.includes(n)) || undefined;
    }, 120_000, 500);

    await client.create(DEPLOYMENTS, 'default', {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } },
      },
    } as KubeObject);
    await waitFor('2 ready web pods', async () => ((await readyPods('app=web')).length === 2) || undefined, 120_000, 500);
  });

  after(async () => {
    try {
      await client?.delete(DEPLOYMENTS, 'default', 'web').catch(() => undefined);
      await client?.delete(PODS, 'default', 'at-kill', { gracePeriodSeconds: 0 }).catch(() => undefined);
      await waitFor('the pods to go', async () => ((await client.list<Pod & KubeObject>(PODS, 'default')).items.length === 0) || undefined, 30_000, 500).catch(() => undefined);
      client?.close();
      for (const a of agents) await a.stop(10_000).catch(() => undefined);
      await lbProc?.stop(5_000).catch(() => undefined);
      for (const s of servers) if (s.running()) await s.stop().catch(() => undefined);
    } finally {
      killAll();
      if (process.env.E2E_KEEP === undefined) await rm(root, { recursive: true, force: true });
      else console.error(`kept ${root}`);
    }
  });

  it('kill -9 of the controller-manager leader under load: no write lost, a new leader scales, pods never over the surge, agents stay Ready, the server rejoins', async () => {
    const writes = new WriteLoop(client, 'cm-kill');
    const dog = new Watchdog(client, ['a1', 'a2']);
    try {
      await waitFor('20 acknowledged writes', async () => (writes.acked.length >= 20) || undefined, 60_000, 100);
      const oldHolder = await holder(client, 'kube-controller-manager');
      const victim = serverOf(oldHolder);
      await victim.kill();
      const ackedAtKill = writes.acked.length;
      // The scale-up made during the failover (retried until some server takes it).
      await waitFor('scale web to 3', async () => {
        try {
          await client.patch(DEPLOYMENTS, 'default', 'web', 'merge', { spec: { replicas: 3 } });
          return true;
        } catch {
          return undefined;
        }
      }, 60_000, 200);
      const newHolder = await waitFor('a new controller-manager leader', async () => {
        const h = await holder(client, 'kube-controller-manager');
        return h !== oldHolder && !h.startsWith(`${victim.name}_`) ? h : undefined;
      }, 60_000, 200);
      assert.ok(servers.some((s) => s !== victim && newHolder.startsWith(`${s.name}_`)), newHolder);
      await waitFor('3 ready web pods', async () => ((await readyPods('app=web')).length === 3) || undefined, 120_000, 500);
      await waitFor('20 more acknowledged writes after the kill', async () => (writes.acked.length >= ackedAtKill + 20) || undefined, 120_000, 200);
      await writes.stop();
      await dog.stop();

      const present = new Set((await client.list<KubeObject>(CONFIGMAPS, 'default')).items.map((c) => c.metadata?.name));
      const lost = writes.acked.filter((n) => !present.has(n));
      assert.deepEqual(lost, [], `acknowledged writes missing after the failover (${writes.failures.length} failed attempts)`);
      assert.ok(dog.maxActivePods <= 4, `the Deployment had ${dog.maxActivePods} pods (replicas 3 + maxSurge 1)`);
      assert.deepEqual(dog.notReady, [], 'an agent\'s node left Ready during the failover');

      await victim.start(sanArgs);
      const last = writes.acked.at(-1)!;
      const r = await victim.kubectl(['get', 'configmap', last, '-o', 'name']);
      assert.equal(r.code, 0, `${last} through the rejoined ${victim.name}: ${r.stderr}`);
      await waitHealthyMembers(victim, 3);
    } finally {
      await writes.stop();
      await dog.stop();
    }
  });

  it('kill -9 of the scheduler leader: a pod created at that moment runs', async () => {
    const oldHolder = await holder(client, 'kube-scheduler');
    const victim = serverOf(oldHolder);
    await victim.kill();
    await waitFor('create pod at-kill', async () => {
      try {
        await client.create(PODS, 'default', { metadata: { name: 'at-kill' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } } as KubeObject);
        return true;
      } catch (e) {
        return isTriremeError(e, 'AlreadyExists') || undefined;
      }
    }, 60_000, 200);
    await waitFor('pod at-kill Running on an agent', async () => {
      const p = await client.get<Pod & KubeObject>(PODS, 'default', 'at-kill').catch(() => undefined);
      return (p?.status?.phase === 'Running' && AGENT_IPS.length > 0 && ['a1', 'a2'].includes(p.spec?.nodeName ?? '')) || undefined;
    }, 120_000, 300);
    const newHolder = await holder(client, 'kube-scheduler');
    assert.ok(!newHolder.startsWith(`${victim.name}_`), `the scheduler Lease is still held by ${newHolder}`);
    await victim.start(sanArgs);
    await waitHealthyMembers(victim, 3);
  });

  it('two of three servers killed: writes are a clean 503 naming the lost quorum; one back, writes work by themselves', async () => {
    const [s1, s2, s3] = servers as [HaServer, HaServer, HaServer];
    await s2.kill();
    await s3.kill();
    const direct = new ApiClient({ ...loadKubeconfig(s1.kubeconfig), server: s1.url }, { requestTimeoutMs: 60_000 });
    try {
      // A write proposed before the lone leader noticed the loss may still commit later: that one
      // is a 504 whose outcome is unknown. Every other answer is a 503 naming the lost quorum.
      let noQuorum: Error | undefined;
      for (let i = 0; i < 5 && noQuorum === undefined; i++) {
        const t0 = Date.now();
        const err = await direct.create(CONFIGMAPS, 'default', { metadata: { name: `no-quorum-${i}` }, data: {} } as KubeObject).then(() => undefined, (e: unknown) => e);
        const tookMs = Date.now() - t0;
        assert.ok(tookMs < 30_000, `the write took ${tookMs} ms to fail`);
        if (isTriremeError(err, 'Timeout')) {
          assert.match(err.message, /outcome is unknown/, String(err));
          continue;
        }
        assert.ok(isTriremeError(err, 'ServiceUnavailable'), `want 503, got ${String(err)}`);
        assert.match(err.message, /no quorum/i);
        noQuorum = err;
      }
      assert.ok(noQuorum, 'no write was refused as 503 without quorum');

      await s2.start(sanArgs);
      await waitFor('a write after the majority returned', async () => {
        try {
          await direct.create(CONFIGMAPS, 'default', { metadata: { name: 'quorum-back' }, data: {} } as KubeObject);
          return true;
        } catch (e) {
          return isTriremeError(e, 'AlreadyExists') || undefined;
        }
      }, 120_000, 500);
      await s3.start(sanArgs);
      await waitHealthyMembers(s1, 3);
    } finally {
      direct.close();
    }
  });
});
