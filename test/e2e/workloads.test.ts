// End-to-end: a Deployment run as real processes on a two-node cluster — `trireme server` with
// its local agent (node n1, 127.0.0.40) plus `trireme agent` (node n2, 127.0.0.41) — driven by
// the real kubectl: apply, get -o wide, logs (-f, --tail, -c), exec (env, exit code, -i),
// set image / set env, rollout status|history|undo|restart|pause|resume, a rolling update with
// maxUnavailable 0 sampled every 100 ms, and delete leaving no process behind.
//
// The tests run in order and share the cluster and the `web` Deployment (each one leaves it
// rolled out with 4 Ready replicas). after() deletes every workload, waits for the pods to go,
// stops the agent and the server, and kills whatever container processes are left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  containerInstances, deleteWorkloads, fixtureText, runId, processes, killAll, listPods, podReady, processesInGroups, processesWith,
  show, sleep, startAgent, startServer, waitFor, type AgentHandle, type ServerHandle,
} from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';

const WEB_MARKER = `e2e-web-marker-${runId}`;

let server: ServerHandle;
let n2: AgentHandle;

async function k(args: string[], timeoutMs = 60_000, input?: string): Promise<string> {
  const r = await server.kubectl(args, { timeoutMs, input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${show(r)}`);
  return r.stdout;
}

/** `kubectl apply -f -` of a fixture with its RUN_ID markers filled in. */
async function apply(name: string): Promise<string> {
  const r = await server.kubectl(['apply', '-f', '-'], { input: fixtureText(`workloads/${name}`) });
  assert.equal(r.code, 0, `kubectl apply ${name}: ${show(r)}`);
  return r.stdout;
}

async function getJson<T>(path: string): Promise<T> {
  const r = await server.request(path);
  assert.equal(r.status, 200, `GET ${path}: ${r.text}`);
  return JSON.parse(r.text) as T;
}

const webPods = async (): Promise<Pod[]> => listPods(server, 'default', 'app=web');

/** Waits until `web` has exactly `n` pods, all Ready, none terminating, and the rollout is done. */
async function webSettled(n = 4): Promise<Pod[]> {
  await k(['rollout', 'status', 'deploy/web', '--timeout=60s'], 70_000);
  return waitFor(`${n} ready web pods and nothing else`, async () => {
    const pods = await webPods();
    return pods.length === n && pods.every(podReady) ? pods : undefined;
  }, 30_000, 200);
}

function envOf(d: Deployment, container = 'web'): Record<string, string | undefined> {
  const c = d.spec?.template.spec?.containers.find((x) => x.name === container);
  return Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
}

function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('workloads: a Deployment on two nodes through kubectl', { timeout: 200_000, skip: needs(deps.kubectl) }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.0.40', agent: { nodeName: 'n1' } });
    n2 = await startAgent(server, { host: '127.0.0.41', nodeName: 'n2' });
  });

  after(async () => {
    if (server !== undefined) {
      const left = await deleteWorkloads(server);
      if (left.length > 0) process.stderr.write(`workloads e2e: pods left after cleanup: ${left.join(', ')}\n`);
    }
    await n2?.dispose();
    await server?.dispose();
    killAll();
  });

  test('apply runs 4 replicas Running and Ready over both nodes; logs, logs -f, --tail, -c; exec env, exit code, -i', { timeout: 60_000 }, () => server.guard(async () => {
    assert.match(await k(['get', 'nodes']), /n1\s+Ready[\s\S]*n2\s+Ready/);
    assert.match(await apply('web.yaml'), /deployment.apps\/web created/);
    const pods = await webSettled();

    const wide = await k(['get', 'pods', '-o', 'wide']);
    const rows = wide.trim().split('\n').slice(1).filter((l) => l.startsWith('web-'));
    assert.equal(rows.length, 4, wide);
    for (const row of rows) assert.match(row, /^web-\S+\s+2\/2\s+Running\s+0\s+\S+\s+127\.0\.0\.4[01]\s+n[12]\s/, wide);
    assert.ok(rows.some((r) => /\sn1\s/.test(r)) && rows.some((r) => /\sn2\s/.test(r)), `not spread over both nodes:\n${wide}`);
    // The pod IP is the node's IP.
    for (const p of pods) assert.equal(p.status?.podIP, p.spec?.nodeName === 'n1' ? '127.0.0.40' : '127.0.0.41');

    const onN2 = pods.find((p) => p.spec?.nodeName === 'n2');
    assert.ok(onN2?.metadata?.name !== undefined);
    const pod = onN2.metadata.name;
    const port = Number(JSON.parse(onN2.metadata.annotations?.['trireme.io/ports'] ?? '{}')['web/http']);
    assert.ok(port >= n2.portRange[0] && port <= n2.portRange[1], `port ${port} outside n2's range`);
    assert.equal(await httpGet('127.0.0.41', port, '/'), `ok ${pod}\n`);

    // logs: the default container (web, with a "Defaulted container" note), -c, --tail.
    const logs = await server.kubectl(['logs', pod]);
    assert.equal(logs.code, 0, show(logs));
    assert.match(logs.stdout, new RegExp(`^web starting on ${port} version v1\\n`));
    assert.equal(await k(['logs', pod, '-c', 'side']), 'side-line-1\nside-line-2\nside-line-3\n');
    assert.equal(await k(['logs', pod, '-c', 'side', '--tail', '1']), 'side-line-3\n');
    assert.equal(await k(['logs', pod, '-c', 'side', '--tail=2']), 'side-line-2\nside-line-3\n');
    assert.match(await k(['logs', pod, '-c', 'side', '--tail=1', '--timestamps']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z side-line-3\n$/);
    // --since: the side lines were written before the readiness wait, so 1 s later none is newer.
    await sleep(1_100);
    assert.equal(await k(['logs', pod, '-c', 'side', '--since=1s']), '');
    assert.equal(await k(['logs', pod, '-c', 'side', '--since=1h']), 'side-line-1\nside-line-2\nside-line-3\n');
    // By workload and by selector, as users do.
    assert.equal(await k(['logs', 'deploy/web', '-c', 'side', '--tail=1']), 'side-line-3\n');
    assert.equal((await k(['logs', '-l', 'app=web', '-c', 'side', '--tail=1', '--prefix'])).trim().split('\n').length, 4);

    // logs -f: sees a line written after it started, keeps running, stops when killed.
    const follow = server.kubectlStream(['logs', '-f', pod, '-c', 'web']);
    await follow.waitFor(/web starting on/);
    assert.equal(await httpGet('127.0.0.41', port, '/follow-me'), `ok ${pod}\n`);
    await follow.waitFor(/GET \/follow-me/, 10_000);
    await sleep(300);
    assert.equal(follow.output().includes('web got SIGTERM'), false);
    follow.kill();
    await waitFor('logs -f to exit after kill', async () => (follow.exited() ? true : undefined), 5_000, 100);

    // exec: the container's environment, the command's exit code, stdin.
    const env = await k(['exec', pod, '-c', 'web', '--', 'env']);
    for (const want of [`POD_NAME=${pod}`, 'POD_NAMESPACE=default', 'POD_IP=127.0.0.41', 'NODE_NAME=n2', `PORT=${port}`, `PORT_HTTP=${port}`]) {
      assert.ok(env.split('\n').includes(want), `exec env lacks ${want}:\n${env}`);
    }
    const failed = await server.kubectl(['exec', pod, '-c', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(failed.code, 7, show(failed));
    assert.equal(failed.stdout, 'out\n');
    assert.match(failed.stderr, /err\n[\s\S]*command terminated with exit code 7/);
    assert.equal(await k(['exec', '-i', pod, '-c', 'web', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], 30_000, 'hello stdin\nsecond line\n'), 'HELLO STDIN\nSECOND LINE\ndone\n');
    // The pod on the server's own node answers exec as well (kubelet API of the local agent).
    const onN1 = pods.find((p) => p.spec?.nodeName === 'n1')?.metadata?.name;
    assert.ok(onN1 !== undefined);
    assert.match(await k(['exec', onN1, '-c', 'side', '--', 'sh', '-c', 'echo $NODE_NAME $POD_NAME']), new RegExp(`^n1 ${onN1}\\n$`));
  }));

  test('set image, set env, rollout status|history|undo (reusing the old ReplicaSet)|restart|pause|resume', { timeout: 120_000 }, () => server.guard(async () => {
    const rsByRevision = async (): Promise<Map<string, ReplicaSet>> => {
      const list = await getJson<{ items: ReplicaSet[] }>('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb');
      return new Map(list.items.map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '?', rs]));
    };
    const deploy = (): Promise<Deployment> => getJson<Deployment>('/apis/apps/v1/namespaces/default/deployments/web');

    assert.match(await k(['set', 'image', 'deploy/web', 'web=node:22']), /deployment.apps\/web image updated/);
    assert.match(await k(['rollout', 'status', 'deploy/web', '--timeout=60s'], 70_000), /deployment "web" successfully rolled out/);
    let pods = await webSettled();
    for (const p of pods) assert.equal(p.spec?.containers[0]?.image, 'node:22');

    assert.match(await k(['set', 'env', 'deploy/web', 'VERSION=v2']), /deployment.apps\/web env updated/);
    pods = await webSettled();
    const anyPod = pods[0]?.metadata?.name ?? '';
    assert.match(await k(['logs', anyPod, '-c', 'web']), /version v2/);

    const history = await k(['rollout', 'history', 'deploy/web']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+\S+\n2\s+\S+\n3\s+\S+/, history);
    assert.match(await k(['rollout', 'history', 'deploy/web', '--revision=2']), /Image:\s+node:22/);

    const before = await rsByRevision();
    const rev2 = before.get('2')?.metadata?.name;
    assert.ok(rev2 !== undefined, `no revision 2 among ${[...before.keys()].join(',')}`);
    assert.equal(before.size, 3);

    // undo: back to revision 2's template (node:22, no VERSION) in revision 2's ReplicaSet.
    assert.match(await k(['rollout', 'undo', 'deploy/web']), /deployment.apps\/web rolled back/);
    pods = await webSettled();
    const d = await deploy();
    assert.equal(d.spec?.template.spec?.containers[0]?.image, 'node:22');
    assert.equal(envOf(d).VERSION, undefined);
    const afterUndo = await rsByRevision();
    assert.equal(afterUndo.size, 3, 'undo made a new ReplicaSet instead of reusing the old one');
    assert.equal(afterUndo.get('4')?.metadata?.name, rev2, 'revision 4 is not the old revision-2 ReplicaSet');
    assert.equal(afterUndo.get('4')?.spec?.replicas, 4);
    for (const p of pods) assert.equal(p.metadata?.labels?.['pod-template-hash'], afterUndo.get('4')?.metadata?.labels?.['pod-template-hash']);
    assert.doesNotMatch(await k(['logs', pods[0]?.metadata?.name ?? '', '-c', 'web']), /version v2/);
    assert.match(await k(['rollout', 'history', 'deploy/web']), /\n1\s+\S+\n3\s+\S+\n4\s+\S+\n/);

    // restart: a new template annotation, hence a new ReplicaSet and all-new pods.
    const oldNames = new Set(pods.map((p) => p.metadata?.name));
    assert.match(await k(['rollout', 'restart', 'deploy/web']), /deployment.apps\/web restarted/);
    pods = await webSettled();
    assert.ok((await deploy()).spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'] !== undefined);
    for (const p of pods) assert.equal(oldNames.has(p.metadata?.name), false, `pod ${p.metadata?.name} survived the restart`);

    // pause: template changes are recorded but not rolled out until resume.
    assert.match(await k(['rollout', 'pause', 'deploy/web']), /deployment.apps\/web paused/);
    await k(['set', 'env', 'deploy/web', 'VERSION=v3']);
    const rsCount = (await rsByRevision()).size;
    await sleep(1_500);
    assert.equal((await rsByRevision()).size, rsCount, 'a paused deployment rolled out');
    const podsPaused = await webPods();
    assert.deepEqual(new Set(podsPaused.map((p) => p.metadata?.name)), new Set(pods.map((p) => p.metadata?.name)));
    assert.equal((await deploy()).spec?.paused, true);
    assert.match(await k(['rollout', 'resume', 'deploy/web']), /deployment.apps\/web resumed/);
    pods = await webSettled();
    assert.match(await k(['logs', pods[0]?.metadata?.name ?? '', '-c', 'web']), /version v3/);
    assert.equal((await rsByRevision()).size, rsCount + 1);
  }));

  test('a rolling update with maxUnavailable 0 never has fewer than 4 Ready pods', { timeout: 60_000 }, () => server.guard(async () => {
    await webSettled();
    let stop = false;
    const samples: number[] = [];
    const totals: number[] = [];
    const sampler = (async () => {
      while (!stop) {
        const pods = await webPods();
        samples.push(pods.filter(podReady).length);
        totals.push(pods.filter((p) => p.metadata?.deletionTimestamp === undefined).length);
        await sleep(50);
      }
    })();
    try {
      await k(['set', 'env', 'deploy/web', 'VERSION=v4']);
      await webSettled();
    } finally {
      stop = true;
      await sampler;
    }
    const min = Math.min(...samples);
    // A rollout takes a few seconds now that readiness is probed fast until the first success.
    assert.ok(samples.length >= 5, `only ${samples.length} samples`);
    assert.ok(min >= 4, `Ready pods dropped to ${min} during the rollout: ${samples.join(' ')}`);
    // maxSurge 1: a fifth pod existed at times, never a sixth.
    assert.ok(totals.includes(5), `no surge pod was seen: ${totals.join(' ')}`);
    assert.ok(Math.max(...totals) <= 5, `more than replicas + maxSurge pods: ${totals.join(' ')}`);
  }));

  test('deleting the Deployment stops its pods gracefully and leaves no process behind', { timeout: 60_000 }, () => server.guard(async () => {
    const pods = await webSettled();
    const uids = new Set(pods.map((p) => p.metadata?.uid));
    const running = [...containerInstances(server.dataDir), ...containerInstances(n2.dataDir)].filter((c) => uids.has(c.podUid) && !c.exited);
    assert.equal(running.length, 8, `expected 8 running containers (4 pods × 2), got ${running.length}`);
    const webProcs = processesWith(WEB_MARKER);
    assert.equal(webProcs.length, 4, `one web process per pod, got:\n${processes().filter((p) => webProcs.includes(p.pid)).map((p) => `${p.pid} pgid ${p.pgid} ${p.cmdline.slice(0, 80)}`).join('\n')}\nrunning: ${JSON.stringify(running.map((c) => [c.container, c.pid, c.pgid]))}`);
    const groups = running.map((c) => c.pgid);
    assert.ok(processesInGroups(groups).length >= 8);

    const follow = server.kubectlStream(['logs', '-f', pods[0]?.metadata?.name ?? '', '-c', 'web']);
    await follow.waitFor(/web starting on/);
    assert.match(await k(['delete', 'deploy', 'web']), /deployment.apps "web" deleted/);
    await waitFor('web pods to go', async () => ((await webPods()).length === 0 ? true : undefined), 30_000, 200);
    assert.deepEqual(processesWith(WEB_MARKER), [], 'a web process outlived its pod');
    assert.deepEqual(processesInGroups(groups), [], 'a container process group outlived its pod');
    const rs = await getJson<{ items: unknown[] }>('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb');
    assert.equal(rs.items.length, 0, 'ReplicaSets were not garbage collected');
    // Graceful: the web process got SIGTERM and ran its handler; `logs -f` ends with it.
    await waitFor('logs -f to end with its container', async () => (follow.exited() ? true : undefined), 10_000, 100);
    assert.match(follow.output(), /web got SIGTERM/);
  }));
});
