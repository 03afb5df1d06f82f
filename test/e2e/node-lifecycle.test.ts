// End-to-end: node lifecycle with real processes — `trireme server` with its local agent (n1,
// 127.0.20.1) plus two `trireme agent`s (n2, n3 on 127.0.20.2/3), a Deployment of 6 spread over
// them. (1) kill -9 an agent and its containers: the node goes Unknown, its pods are evicted and
// replaced, and the Deployment is fully Ready again on the other nodes; the timeline is printed
// (docs/controllers.md quotes it). (2) SIGSTOP two of the three nodes' agents at once: both go
// Unknown, but the mass-disruption guard holds their pods (no deletion), says so in an Event
// `kubectl get events` shows and in /metrics; after SIGCONT they are Ready with the same pods.
// after() resumes stopped agents, deletes the workloads, and stops every process it started.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import {
  deleteWorkloads, fixtureText, killAll, killContainers, listPods, podReady, show, startAgent, startServer, waitFor, waitNodeReady,
  type AgentHandle, type ServerHandle,
} from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';

let server: ServerHandle;
let n2: AgentHandle;
let n3: AgentHandle;
const stopped = new Set<AgentHandle>();
const SELECTOR = 'app=failover';

async function node(name: string): Promise<Node> {
  const r = await server.request(`/api/v1/nodes/${name}`);
  assert.equal(r.status, 200, `GET node ${name}: ${r.text}`);
  return JSON.parse(r.text) as Node;
}
const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const uids = (pods: Pod[]) => pods.map((p) => p.metadata?.uid ?? '').sort();
const on = (pods: Pod[], nodeName: string) => pods.filter((p) => p.spec?.nodeName === nodeName);

function signal(a: AgentHandle, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
  const pid = a.pid();
  assert.ok(pid !== undefined, `agent ${a.nodeName} has a pid`);
  process.kill(pid, sig);
  if (sig === 'SIGSTOP') stopped.add(a);
  else stopped.delete(a);
}

function waitAllReady(timeoutMs: number, notOn?: string): Promise<Pod[]> {
  return waitFor(`6 ready pods ${SELECTOR}${notOn ? ` off ${notOn}` : ''}`, async () => {
    const pods = await listPods(server, 'default', SELECTOR);
    return pods.length === 6 && pods.every(podReady) && (notOn === undefined || on(pods, notOn).length === 0) ? pods : undefined;
  }, timeoutMs, 100);
}

describe('node failure: pods replaced in seconds; most nodes silent at once evict nothing', { timeout: 240_000, skip: needs(deps.kubectl) }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.20.1', agent: { nodeName: 'n1' }, extraArgs: ['--service-cluster-ip-range', '127.20.0.0/16'] });
    n2 = await startAgent(server, { host: '127.0.20.2', nodeName: 'n2' });
    n3 = await startAgent(server, { host: '127.0.20.3', nodeName: 'n3' });
    const r = await server.kubectl(['apply', '-f', '-'], { input: fixtureText('workloads/failover.yaml') });
    assert.equal(r.code, 0, show(r));
    await waitAllReady(60_000);
  });

  after(async () => {
    for (const a of stopped) {
      const pid = a.pid();
      if (pid !== undefined) process.kill(pid, 'SIGCONT');
    }
    if (server !== undefined) {
      const left = await deleteWorkloads(server);
      if (left.length > 0) process.stderr.write(`node-lifecycle e2e: pods left after cleanup: ${left.join(', ')}\n`);
    }
    await n3?.dispose();
    await n2?.dispose();
    await server?.dispose();
    killAll();
  });

  test('kill -9 an agent with its pods: Unknown, evicted, Ready again on the other nodes', { timeout: 90_000 }, (t) => server.guard(async () => {
    const before = await listPods(server, 'default', SELECTOR);
    // The agent with more of the pods dies (the spread gives each node some).
    const victim = on(before, 'n2').length >= on(before, 'n3').length ? n2 : n3;
    const doomed = on(before, victim.nodeName).length;
    assert.ok(doomed > 0, `${victim.nodeName} runs some of the pods`);
    const survivors = uids(before.filter((p) => p.spec?.nodeName !== victim.nodeName));

    const t0 = Date.now();
    signal(victim, 'SIGKILL');
    killContainers(victim.dataDir);
    let unknownAt: number | undefined;
    let evictedAt: number | undefined;
    const pods = await waitFor('the Deployment Ready again off the dead node', async () => {
      unknownAt ??= ready(await node(victim.nodeName)) === 'Unknown' ? Date.now() : undefined;
      const now = await listPods(server, 'default', SELECTOR);
      evictedAt ??= on(now, victim.nodeName).length === 0 ? Date.now() : undefined;
      return now.length === 6 && now.every(podReady) && on(now, victim.nodeName).length === 0 ? now : undefined;
    }, 60_000, 100);
    const readyAt = Date.now();
    const s = (at: number | undefined) => (at === undefined ? '?' : `${((at - t0) / 1000).toFixed(1)} s`);
    t.diagnostic(`timeline after kill -9 of ${victim.nodeName} (${doomed} pods): Unknown ${s(unknownAt)}, evicted ${s(evictedAt)}, all 6 Ready ${s(readyAt)}`);
    assert.ok(unknownAt !== undefined, 'the node was seen Unknown');
    assert.ok(evictedAt !== undefined && evictedAt >= unknownAt, 'evicted after it went Unknown');
    for (const uid of survivors) assert.ok(uids(pods).includes(uid), 'pods on the surviving nodes were left alone');
    assert.equal((await node(victim.nodeName)).spec?.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute'), true);

    // The agent comes back (its containers are gone): Ready again, the taints go.
    await victim.start();
    await waitFor(`${victim.nodeName} untainted`, async () => ((await node(victim.nodeName)).spec?.taints ?? []).length === 0 ? true : undefined, 30_000, 200);
  }));

  test('SIGSTOP two of three agents at once: Unknown, but nothing evicted; an Event and a metric say why; SIGCONT: Ready with the same six pods', { timeout: 90_000 }, (t) => server.guard(async () => {
    const before = await waitAllReady(30_000);
    const t0 = Date.now();
    signal(n2, 'SIGSTOP');
    signal(n3, 'SIGSTOP');
    await waitFor('n2 and n3 Unknown', async () => (ready(await node('n2')) === 'Unknown' && ready(await node('n3')) === 'Unknown' ? true : undefined), 30_000, 200);
    t.diagnostic(`both Unknown ${((Date.now() - t0) / 1000).toFixed(1)} s after SIGSTOP`);
    // Past the grace period (5 s) and the default toleration (1 s) with margin.
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 12_000 - Date.now())));
    const during = await listPods(server, 'default', SELECTOR);
    assert.deepEqual(uids(during), uids(before), 'no pod was deleted or replaced');
    assert.ok(during.every((p) => p.metadata?.deletionTimestamp === undefined), 'no pod is terminating');
    for (const name of ['n2', 'n3']) {
      assert.equal((await node(name)).spec?.taints?.some((x) => x.effect === 'NoExecute'), false, `${name} has no NoExecute taint`);
    }
    const events = await server.kubectl(['get', 'events', '--field-selector', 'reason=EvictionSuppressed']);
    assert.equal(events.code, 0, show(events));
    assert.match(events.stdout, /EvictionSuppressed\s+node\/n[23]\s+Node n[23] stopped posting status, but 2 of 3 nodes are silent at once/);
    const metrics = await server.request('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^trireme_node_eviction_suppressed 2$/m);
    assert.match(metrics.text, /^trireme_node_lifecycle_zone_state\{zone="",state="PartialDisruption"\} 1$/m);

    signal(n2, 'SIGCONT');
    signal(n3, 'SIGCONT');
    await waitNodeReady(server, 'n2', 30_000);
    await waitNodeReady(server, 'n3', 30_000);
    const afterPods = await waitAllReady(30_000);
    // The same six: the node that returns second gets a grace period from the moment the guard
    // lifts, and neither agent reports Ready False on its way back (no not-ready eviction).
    assert.deepEqual(uids(afterPods), uids(before), 'the pods of the returned nodes were kept, none replaced');
  }));
});
