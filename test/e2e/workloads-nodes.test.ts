// End-to-end: what nodes do to pods, on a two-node cluster — `trireme server` with its local
// agent (node n1, 127.0.0.42) plus `trireme agent` (node n2, 127.0.0.43) — seen through the real
// kubectl: a kill -9'd container restarts (restartCount grows, `logs --previous`), a failing
// liveness probe restarts, a failing readiness probe leaves the pod Running but not Ready,
// CrashLoopBackOff, the events `describe` shows, a DaemonSet's pod per node, cordon and drain,
// required anti-affinity leaving the surplus Pending with a reason, an agent restart that
// neither kills nor duplicates its pods, and static pods.
//
// How the kill -9 test finds the container's pid: the container prints `process.pid` (read back
// with `kubectl logs`), cross-checked with `state.json` in the agent's data dir.
//
// The tests run in order on one cluster; the DaemonSet stays from its test to the end (drain
// must ignore it; the agent restart must keep it). after() deletes every workload, waits for the
// pods to go, stops the agent and the server, and kills whatever container processes are left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  containerInstances, deleteWorkloads, fixtureText, runId, killAll, listPods, podReady, processesWith,
  show, sleep, startAgent, startServer, waitFor, type AgentHandle, type ServerHandle,
} from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';

let server: ServerHandle;
let n2: AgentHandle;

async function k(args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await server.kubectl(args, { timeoutMs });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${show(r)}`);
  return r.stdout;
}

/** `kubectl apply -f -` of a fixture with its RUN_ID markers filled in. */
async function apply(name: string): Promise<string> {
  const r = await server.kubectl(['apply', '-f', '-'], { input: fixtureText(`workloads/${name}`) });
  assert.equal(r.code, 0, `kubectl apply ${name}: ${show(r)}`);
  return r.stdout;
}

async function getPod(name: string): Promise<Pod> {
  const r = await server.request(`/api/v1/namespaces/default/pods/${name}`);
  assert.equal(r.status, 200, `GET pod ${name}: ${r.text}`);
  return JSON.parse(r.text) as Pod;
}

const status0 = (p: Pod) => p.status?.containerStatuses?.[0];
const restarts = (p: Pod): number => status0(p)?.restartCount ?? 0;
const running = (p: Pod): boolean => p.status?.phase === 'Running' && status0(p)?.state?.running !== undefined;

/** Polls the pod until `ok` holds. */
function waitPod(name: string, what: string, ok: (p: Pod) => boolean, timeoutMs = 30_000): Promise<Pod> {
  return waitFor(`pod ${name}: ${what}`, async () => {
    const p = await getPod(name);
    return ok(p) ? p : undefined;
  }, timeoutMs, 200);
}

/** Waits for `n` pods with the selector, all Ready, none terminating. */
function waitReady(selector: string, n: number, timeoutMs = 30_000): Promise<Pod[]> {
  return waitFor(`${n} ready pods ${selector}`, async () => {
    const pods = await listPods(server, 'default', selector);
    return pods.length === n && pods.every(podReady) ? pods : undefined;
  }, timeoutMs, 200);
}

async function waitGone(selector: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`pods ${selector} to go`, async () => ((await listPods(server, 'default', selector)).length === 0 ? true : undefined), timeoutMs, 200);
}

/** The row of `kubectl get pod NAME` (without the header). */
async function row(name: string): Promise<string> {
  return (await k(['get', 'pod', name])).trim().split('\n')[1] ?? '';
}

function agentDirOf(node: string | undefined): string {
  return node === 'n2' ? n2.dataDir : server.dataDir;
}

describe('workloads: restarts, probes, nodes, drain, scheduling, agent restart, static pods', { timeout: 200_000, skip: needs(deps.kubectl) }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.0.42', agent: { nodeName: 'n1' } });
    n2 = await startAgent(server, { host: '127.0.0.43', nodeName: 'n2' });
  });

  after(async () => {
    if (n2 !== undefined) rmSync(join(n2.dataDir, 'manifests'), { recursive: true, force: true });
    if (server !== undefined) {
      const left = await deleteWorkloads(server);
      if (left.length > 0) process.stderr.write(`workloads-nodes e2e: pods left after cleanup: ${left.join(', ')}\n`);
    }
    await n2?.dispose();
    await server?.dispose();
    killAll();
  });

  test('kill -9 restarts the container; liveness failure restarts; readiness failure is Running 0/1; CrashLoopBackOff; describe shows the events', { timeout: 60_000 }, () => server.guard(async () => {
    await apply('probes.yaml');

    // kill -9: the pid the container printed is the one the agent recorded.
    let killme = await waitPod('killme', 'running', running);
    const pid1 = Number(/pid=(\d+)/.exec(await k(['logs', 'killme']))?.[1]);
    const inst = containerInstances(agentDirOf(killme.spec?.nodeName)).find((c) => c.podUid === killme.metadata?.uid && !c.exited);
    assert.equal(inst?.pid, pid1, 'the logged pid is not the recorded one');
    process.kill(pid1, 'SIGKILL');
    killme = await waitPod('killme', 'restarted and running', (p) => restarts(p) === 1 && running(p));
    assert.equal(status0(killme)?.lastState?.terminated?.exitCode, 137);
    const pid2 = Number(/pid=(\d+)/.exec(await k(['logs', 'killme']))?.[1]);
    assert.ok(pid2 > 0 && pid2 !== pid1, `new pid ${pid2} vs ${pid1}`);
    assert.equal(await k(['logs', 'killme', '--previous']), `pid=${pid1}\n`);
    assert.match(await row('killme'), /^killme\s+1\/1\s+Running\s+1 \(\S+ ago\)\s/);

    // liveness: healthy until the file exists, then killed and restarted.
    await waitPod('liveness', 'running', running);
    await k(['exec', 'liveness', '--', 'touch', 'unhealthy']);
    const live = await waitPod('liveness', 'restarted by its liveness probe', (p) => restarts(p) >= 1);
    assert.ok(status0(live)?.lastState?.terminated !== undefined, JSON.stringify(status0(live)));

    // readiness: Running, never Ready, never restarted.
    const unready = await waitPod('unready', 'running', running);
    await sleep(Math.max(0, 3_000 - (Date.now() - Date.parse(status0(unready)?.state?.running?.startedAt ?? ''))));
    const u = await getPod('unready');
    assert.equal(restarts(u), 0);
    assert.equal(status0(u)?.ready, false);
    assert.equal(u.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.match(await row('unready'), /^unready\s+0\/1\s+Running\s+0\s/);

    // crash loop: shown in STATUS, previous instance's log readable.
    await waitFor('crashloop in CrashLoopBackOff', async () => (/^crashloop\s+0\/1\s+CrashLoopBackOff\s+\d+/.test(await row('crashloop')) ? true : undefined), 20_000, 300);
    assert.equal(await k(['logs', 'crashloop', '--previous']), 'crashing now\n');
    const crash = await getPod('crashloop');
    assert.equal(status0(crash)?.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(status0(crash)?.lastState?.terminated?.exitCode, 3);

    // describe: the events users look for.
    const events = async (pod: string): Promise<string> => {
      const out = await k(['describe', 'pod', pod]);
      return out.slice(out.indexOf('\nEvents:'));
    };
    const killEvents = await events('killme');
    assert.match(killEvents, /Normal\s+Scheduled\s+.*Successfully assigned default\/killme to n[12]/);
    assert.match(killEvents, /Normal\s+Started\s/);
    const liveEvents = await events('liveness');
    assert.match(liveEvents, /Warning\s+Unhealthy\s+.*Liveness probe failed/);
    assert.match(liveEvents, /Normal\s+Killing\s+.*failed liveness probe/);
    assert.match(await events('unready'), /Warning\s+Unhealthy\s+.*Readiness probe failed/);
    assert.match(await events('crashloop'), /Warning\s+BackOff\s+.*Back-off restarting failed container/);

    await k(['delete', 'pods', '-l', 'suite=probes', '--wait=false']);
    await waitGone('suite=probes');
    assert.deepEqual(processesWith(`e2e-killme-marker-${runId}`), []);
  }));

  test('kubectl run IMAGE -- cmd (args only, restart Never) runs to Completed', { timeout: 30_000 }, () => server.guard(async () => {
    assert.match(await k(['run', 'one-shot', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo hi from $POD_NAME']), /pod\/one-shot created/);
    const p = await waitPod('one-shot', 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    assert.equal(status0(p)?.state?.terminated?.reason, 'Completed');
    assert.match(await row('one-shot'), /^one-shot\s+0\/1\s+Completed\s+0\s/);
    assert.equal(await k(['logs', 'one-shot']), 'hi from one-shot\n');
    await k(['delete', 'pod', 'one-shot']);
  }));

  test('a DaemonSet runs one pod per node', { timeout: 30_000 }, () => server.guard(async () => {
    await apply('daemonset.yaml');
    const pods = await waitReady('app=agent-ds', 2);
    assert.deepEqual(pods.map((p) => p.spec?.nodeName).sort(), ['n1', 'n2']);
    await waitFor('ds status', async () => (/^agent-ds\s+2\s+2\s+2\s+2\s+2\s/m.test(await k(['get', 'ds', 'agent-ds'])) ? true : undefined), 15_000, 300);
    assert.equal(processesWith(`e2e-ds-marker-${runId}`).length, 2);
  }));

  test('cordon and drain n2 move its pods to n1 (DaemonSet ignored); uncordon', { timeout: 60_000 }, () => server.guard(async () => {
    await apply('spread.yaml');
    const before = await waitReady('app=spread', 4);
    assert.ok(before.some((p) => p.spec?.nodeName === 'n2'), 'no spread pod landed on n2');

    assert.match(await k(['cordon', 'n2']), /node\/n2 cordoned/);
    assert.match(await k(['get', 'nodes']), /n2\s+Ready,SchedulingDisabled/);
    const drain = await server.kubectl(['drain', 'n2', '--ignore-daemonsets', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(drain.code, 0, show(drain));
    assert.match(drain.stdout, /evicting pod default\/spread-/);
    assert.match(drain.stdout, /node\/n2 drained/);
    assert.match(drain.stderr, /ignoring DaemonSet-managed Pods: default\/agent-ds-/);

    const afterDrain = await waitReady('app=spread', 4);
    for (const p of afterDrain) assert.equal(p.spec?.nodeName, 'n1', `${p.metadata?.name} is on ${p.spec?.nodeName}`);
    const ds = await listPods(server, 'default', 'app=agent-ds');
    assert.deepEqual(ds.map((p) => p.spec?.nodeName).sort(), ['n1', 'n2'], 'drain evicted the DaemonSet pod');

    assert.match(await k(['uncordon', 'n2']), /node\/n2 uncordoned/);
    assert.match(await k(['get', 'nodes']), /n2\s+Ready\s/);
    await k(['delete', 'deploy', 'spread']);
    await waitGone('app=spread');
  }));

  test('required anti-affinity: 2 replicas on distinct nodes, the third Pending with a reason', { timeout: 30_000 }, () => server.guard(async () => {
    await apply('solo.yaml');
    const pods = await waitFor('2 ready + 1 unschedulable solo pods', async () => {
      const ps = await listPods(server, 'default', 'app=solo');
      const ready = ps.filter(podReady);
      const unsched = ps.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable'));
      return ps.length === 3 && ready.length === 2 && unsched.length === 1 ? { ready, pending: unsched[0] as Pod } : undefined;
    }, 20_000, 200);
    assert.deepEqual(pods.ready.map((p) => p.spec?.nodeName).sort(), ['n1', 'n2']);
    const pending = pods.pending.metadata?.name ?? '';
    assert.equal(pods.pending.spec?.nodeName, undefined);
    assert.match(await row(pending), /\s0\/1\s+Pending\s+0\s/);
    const described = await k(['describe', 'pod', pending]);
    assert.match(described, /PodScheduled\s+False/);
    assert.match(described, /Warning\s+FailedScheduling\s+.*0\/2 nodes are available:.*anti-affinity/);
    await k(['delete', 'deploy', 'solo']);
    await waitGone('app=solo');
  }));

  test('restarting the agent leaves each pod running exactly once, and stops what was deleted meanwhile', { timeout: 60_000 }, () => server.guard(async () => {
    await apply('steady.yaml');
    const pods = await waitReady('app=steady', 2);
    const uids = new Set(pods.map((p) => p.metadata?.uid));
    const dsOnN2 = (await listPods(server, 'default', 'app=agent-ds')).find((p) => p.spec?.nodeName === 'n2');
    if (dsOnN2?.metadata?.uid !== undefined) uids.add(dsOnN2.metadata.uid);
    const snapshot = (): string[] => containerInstances(n2.dataDir).filter((c) => uids.has(c.podUid)).map((c) => `${c.podUid}/${c.container}/${c.attempt} pid ${c.pid}${c.exited ? ' exited' : ''}`).sort();
    const before = snapshot();
    assert.equal(before.length, 3, before.join('\n'));
    const steadyPids = processesWith(`e2e-steady-marker-${runId}`).sort();
    assert.equal(steadyPids.length, 2);

    const exit = await n2.stop();
    assert.equal(exit.code, 0, `agent exit ${JSON.stringify(exit)}`);
    assert.deepEqual(processesWith(`e2e-steady-marker-${runId}`).sort(), steadyPids, 'stopping the agent stopped its containers');
    await n2.start();
    // Watch for a while: the re-adopted containers stay the same processes, nothing doubles.
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      assert.deepEqual(processesWith(`e2e-steady-marker-${runId}`).sort(), steadyPids, 'containers changed or doubled after the agent restart');
      assert.equal(processesWith(`e2e-ds-marker-${runId}`).length, 2);
      await sleep(200);
    }
    assert.deepEqual(snapshot(), before, 'the agent started or ended container instances');
    const after = await waitReady('app=steady', 2);
    for (const p of after) assert.equal(restarts(p), 0, `${p.metadata?.name} restartCount`);
    // The re-adopted containers still answer logs and exec through the new agent.
    const name = after[0]?.metadata?.name ?? '';
    assert.match(await k(['logs', name]), /^pid=\d+\n$/);
    assert.equal(await k(['exec', name, '--', 'sh', '-c', 'echo $POD_NAME']), `${name}\n`);

    // What should not run any more is cleaned up by the restarted agent: scale down while it is
    // away; the pod being deleted stops when it comes back, the other keeps its process.
    await n2.stop();
    await k(['scale', 'deploy', 'steady', '--replicas=1']);
    await sleep(500);
    assert.equal(processesWith(`e2e-steady-marker-${runId}`).length, 2, 'containers stopped while their agent was away');
    await n2.start();
    const [left] = await waitReady('app=steady', 1);
    await waitFor('the scaled-down container to stop', async () => (processesWith(`e2e-steady-marker-${runId}`).length === 1 ? true : undefined), 15_000, 200);
    const [survivor] = processesWith(`e2e-steady-marker-${runId}`);
    assert.ok(survivor !== undefined && steadyPids.includes(survivor), `survivor ${survivor} is not one of ${steadyPids.join(',')}`);
    assert.equal(left !== undefined && restarts(left), 0);
    await k(['delete', 'deploy', 'steady']);
    await waitGone('app=steady');
    assert.deepEqual(processesWith(`e2e-steady-marker-${runId}`), []);
  }));

  test('a static pod in DATA_DIR/manifests runs and shows up as <name>-<node>; removing the file stops it', { timeout: 60_000 }, () => server.guard(async () => {
    const dir = join(n2.dataDir, 'manifests');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'static.yaml'), fixtureText('workloads/static-pod.yaml'));
    await waitFor('static-n2 Running in kubectl get pods', async () => (/^static-n2\s+1\/1\s+Running\s+0\s/m.test(await k(['get', 'pods'])) ? true : undefined), 30_000, 300);
    const mirror = await getPod('static-n2');
    assert.equal(mirror.spec?.nodeName, 'n2');
    assert.ok(mirror.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined);
    assert.equal(processesWith(`e2e-static-marker-${runId}`).length, 1);
    assert.match(await k(['logs', 'static-n2']), /^static pid=\d+\n$/);

    rmSync(join(dir, 'static.yaml'));
    await waitFor('static-n2 to go', async () => ((await server.request('/api/v1/namespaces/default/pods/static-n2')).status === 404 ? true : undefined), 30_000, 300);
    await waitFor('the static process to end', async () => (processesWith(`e2e-static-marker-${runId}`).length === 0 ? true : undefined), 10_000, 200);
  }));
});
