// End-to-end: `kubectl top` (the real /usr/bin/kubectl) against metrics.k8s.io served by the API
// server from the agents' usage samples. A server with its local agent (node n1, 127.0.60.1) and
// a `trireme agent` (n2, 127.0.60.2), both sampling every second; a pod running a shell CPU loop
// on n2 and an idle one on n1. Checked: discovery lists the group; `kubectl top nodes` and
// `kubectl top pods -A` show the busy pod and its node with non-zero CPU and memory; the raw
// PodMetrics has a recent timestamp and a window near the sampling period; a pod that does not
// exist is a NotFound. after() deletes the pods (ending the loop), stops everything, kills
// anything left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteWorkloads, killAll, listPods, runId, show, startAgent, startServer, waitFor, type AgentHandle, type ServerHandle } from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';

let server: ServerHandle;
let n2: AgentHandle;
const STATS = ['--resource-stats-period', '1s'];

const pod = (name: string, node: string, script: string): string => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } },
  spec: { nodeName: node, restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `${script} # e2e-top-${runId}`] }] },
});

/** `1234m` → 1.234 cores; `5n` → 5e-9. */
function cores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(q);
  assert.ok(m, `not a CPU quantity: ${q}`);
  return Number(m[1]) * ({ n: 1e-9, u: 1e-6, m: 1e-3 }[m[2] as 'n' | 'u' | 'm'] ?? 1);
}

/** `12Mi` → bytes. */
function bytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  assert.ok(m, `not a memory quantity: ${q}`);
  return Number(m[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1);
}

/** The rows of a kubectl table (header dropped), split on runs of spaces. */
const rows = (out: string): string[][] => out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));

describe('kubectl top: metrics.k8s.io from the agents', { skip: needs(deps.kubectl) || needs(deps.nativeShim) }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.60.1', agent: { nodeName: 'n1', portRange: [29600, 29649] }, extraArgs: ['--service-cluster-ip-range', '127.60.0.0/18', ...STATS] });
    n2 = await startAgent(server, { host: '127.0.60.2', nodeName: 'n2', portRange: [29650, 29699], extraArgs: STATS });
    for (const [name, node, script] of [['busy', 'n2', 'while :; do :; done'], ['idle', 'n1', 'sleep 3600']] as const) {
      const r = await server.kubectl(['apply', '-f', '-'], { input: pod(name, node, script) });
      assert.equal(r.code, 0, show(r));
    }
    await waitFor('both pods running', async () => {
      const pods = await listPods(server);
      return pods.length === 2 && pods.every((p) => p.status?.phase === 'Running') ? true : undefined;
    }, 30_000, 200);
  });

  after(async () => {
    try {
      if (server) await deleteWorkloads(server);
      await n2?.dispose();
      await server?.dispose();
    } finally {
      killAll();
    }
  });

  test('discovery lists metrics.k8s.io nodes and pods', async () => {
    const r = await server.kubectl(['api-resources', '--api-group=metrics.k8s.io', '--no-headers']);
    assert.equal(r.code, 0, show(r));
    const names = rows(`header\n${r.stdout}`).map((c) => c[0]).sort();
    assert.deepEqual(names, ['nodes', 'pods']);
  });

  test('kubectl top nodes: both nodes, non-zero CPU and memory', async () => {
    const out = await waitFor('kubectl top nodes to list n1 and n2', async () => {
      const r = await server.kubectl(['top', 'nodes']);
      return r.code === 0 && /^n1\s/m.test(r.stdout) && /^n2\s/m.test(r.stdout) && !r.stdout.includes('<unknown>') ? r.stdout : undefined;
    }, 30_000, 500);
    const header = out.split('\n')[0]!;
    assert.match(header, /^NAME\s+CPU\(cores\)\s+CPU(\(%\)|%)\s+MEMORY\(bytes\)\s+MEMORY(\(%\)|%)/);
    for (const [name, cpu, cpuPct, mem, memPct] of rows(out)) {
      process.stdout.write(`# top node ${name}: cpu ${cpu} (${cpuPct}), memory ${mem} (${memPct})\n`);
      // The loop keeps a core busy on this machine: every node (same host) sees it.
      assert.ok(cores(cpu!) >= 0.01, `node ${name} CPU ${cpu}`);
      assert.ok(bytes(mem!) > 10 * 1024 ** 2, `node ${name} memory ${mem}`);
      assert.match(cpuPct!, /^\d+%$/);
    }
  });

  test('kubectl top pods -A: the busy pod uses CPU, the idle one almost none', async () => {
    const out = await waitFor('kubectl top pods -A to list both pods', async () => {
      const r = await server.kubectl(['top', 'pods', '-A']);
      return r.code === 0 && /\sbusy\s/.test(r.stdout) && /\sidle\s/.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 500);
    assert.match(out.split('\n')[0]!, /^NAMESPACE\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    const byName = new Map(rows(out).map((c) => [c[1]!, c]));
    const [, , busyCpu, busyMem] = byName.get('busy')!;
    const [, , idleCpu, idleMem] = byName.get('idle')!;
    process.stdout.write(`# top pods: busy ${busyCpu} ${busyMem}, idle ${idleCpu} ${idleMem}\n`);
    // The loop gets what a shared machine leaves it (0.15-0.9 cores seen): non-zero, and well
    // above the idle pod, is what the figures must show.
    assert.ok(cores(busyCpu!) >= 0.01, `busy pod CPU ${busyCpu}`);
    assert.ok(bytes(busyMem!) > 0, `busy pod memory ${busyMem}`);
    assert.ok(cores(idleCpu!) * 5 <= cores(busyCpu!), `idle pod CPU ${idleCpu} vs busy ${busyCpu}`);
    assert.ok(bytes(idleMem!) > 0, `idle pod memory ${idleMem}`);

    // One namespace, one pod, containers: the same figures through the narrower requests.
    const one = await server.kubectl(['top', 'pod', 'busy', '--containers']);
    assert.equal(one.code, 0, show(one));
    const [row] = rows(one.stdout);
    assert.equal(row?.[0], 'busy');
    assert.equal(row?.[1], 'main');
    assert.ok(cores(row![2]!) >= 0.01, `busy container CPU ${row![2]}`);
    const sel = await server.kubectl(['top', 'pods', '-l', 'app=idle']);
    assert.equal(sel.code, 0, show(sel));
    assert.deepEqual(rows(sel.stdout).map((c) => c[0]), ['idle']);
  });

  test('PodMetrics and NodeMetrics as JSON: timestamp, window, usage', async () => {
    const r = await server.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy']);
    assert.equal(r.code, 0, show(r));
    const m = JSON.parse(r.stdout) as { kind: string; apiVersion: string; metadata: { name: string; namespace: string; labels?: Record<string, string> }; timestamp: string; window: string; containers: { name: string; usage: { cpu: string; memory: string } }[] };
    assert.equal(m.kind, 'PodMetrics');
    assert.equal(m.apiVersion, 'metrics.k8s.io/v1beta1');
    assert.deepEqual([m.metadata.name, m.metadata.namespace, m.metadata.labels?.app], ['busy', 'default', 'busy']);
    const age = Date.now() - Date.parse(m.timestamp);
    assert.ok(age >= -1000 && age < 10_000, `timestamp ${m.timestamp} is recent`);
    const w = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(m.window);
    assert.ok(w, `window ${m.window}`);
    const windowS = Number(w[1]) / (w[2] === 'ms' ? 1000 : 1);
    assert.ok(windowS >= 0.5 && windowS < 5, `window ${m.window} near the 1 s sampling period`);
    assert.equal(m.containers[0]?.name, 'main');
    assert.match(m.containers[0]!.usage.cpu, /^\d+n$/);
    assert.match(m.containers[0]!.usage.memory, /^\d+Ki$/);

    const nodes = await server.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']);
    assert.equal(nodes.code, 0, show(nodes));
    const list = JSON.parse(nodes.stdout) as { kind: string; items: { metadata: { name: string }; usage: { cpu: string } }[] };
    assert.equal(list.kind, 'NodeMetricsList');
    assert.deepEqual(list.items.map((i) => i.metadata.name).sort(), ['n1', 'n2']);

    const missing = await server.request('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope');
    assert.equal(missing.status, 404, missing.text);
    assert.equal((JSON.parse(missing.text) as { reason: string }).reason, 'NotFound');
    const write = await server.request('/apis/metrics.k8s.io/v1beta1/nodes', { method: 'POST', body: '{}' });
    assert.equal(write.status, 405, write.text);
  });
});
