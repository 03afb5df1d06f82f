// End-to-end: the cluster DNS add-on of `trireme server` (server + its agent dns-n1 on 127.0.24.1,
// later `trireme agent` dns-n2 on 127.0.24.2, Service range 127.24.0.0/16). The server deploys
// kube-system/coredns behind kube-system/kube-dns on 127.24.0.10; its two replicas are real
// `trireme dns` processes on the process runtime, each listening on its allocated UDP and TCP host
// ports on the node IP, and answer node's resolver and dig there (the ClusterIP itself needs the
// agents' service proxy, another part of issue 8). The add-on is put back when deleted or scaled
// to 0, and its anti-affinity turns required once a second node joins, spreading the replicas.
// Also: `trireme dns` run by hand with the admin kubeconfig answers for hand-made Endpoints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { cliMain, killAll, listPods, podReady, startAgent, startServer, waitFor, type AgentHandle, type ServerHandle } from './harness.js';
import { tracker } from './harness/tracking.js';
import { readReadyFile } from '../../src/cli/ready-file.js';
import { deps, needs, pathOf } from '../helpers/require-dep.js';

const N1 = '127.0.24.1';
const N2 = '127.0.24.2';
const run = promisify(execFile);
let server: ServerHandle;
let n2: AgentHandle | undefined;

async function api<T>(path: string, method = 'GET', body?: unknown, contentType = 'application/json'): Promise<{ status: number; obj: T }> {
  const r = await server.request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': contentType } }) });
  return { status: r.status, obj: (r.text ? JSON.parse(r.text) : undefined) as T };
}
async function must<T>(path: string, method = 'GET', body?: unknown, contentType?: string): Promise<T> {
  const r = await api<T>(path, method, body, contentType);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.obj)}`);
  return r.obj;
}
const DEPLOY = '/apis/apps/v1/namespaces/kube-system/deployments/coredns';
const SVC = '/api/v1/namespaces/kube-system/services/kube-dns';

/** The host ports the agent gave a DNS pod: {"dns/dns": udp, "dns/dns-tcp": tcp}. */
function ports(p: Pod): { udp: number; tcp: number } {
  const cond = p.status?.conditions?.find((c) => c.type === 'trireme.io/PortsAllocated');
  const a = JSON.parse(p.metadata?.annotations?.['trireme.io/ports'] ?? cond?.message ?? '{}') as Record<string, number>;
  assert.ok(a['dns/dns'] && a['dns/dns-tcp'], `ports of ${p.metadata?.name}: ${JSON.stringify(a)}`);
  return { udp: a['dns/dns']!, tcp: a['dns/dns-tcp']! };
}

async function readyDnsPods(n: number, timeoutMs = 60_000): Promise<Pod[]> {
  return waitFor(`${n} Ready DNS pods`, async () => {
    const pods = (await listPods(server, 'kube-system', 'k8s-app=kube-dns')).filter(podReady);
    return pods.length === n ? pods : undefined;
  }, timeoutMs, 300);
}

function resolverAt(host: string, port: number): Resolver {
  const r = new Resolver({ timeout: 1500, tries: 2 });
  r.setServers([`${host}:${port}`]);
  return r;
}

describe('cluster DNS add-on', { timeout: 300_000 }, () => {
  before(async () => {
    server = await startServer({
      host: N1, agent: { nodeName: 'dns-n1', portRange: [26240, 26289] }, dns: true,
      extraArgs: ['--service-cluster-ip-range', '127.24.0.0/16'],
    });
    // What the replicas will be asked about: a ClusterIP Service and a selector-less headless one.
    await must('/api/v1/namespaces/default/services', 'POST', {
      metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    await must('/api/v1/namespaces/default/services', 'POST', { metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } });
    await must('/api/v1/namespaces/default/endpoints', 'POST', {
      metadata: { name: 'db' }, subsets: [{ addresses: [{ ip: N2, hostname: 'db-0' }], ports: [{ name: 'pg', port: 26300, protocol: 'TCP' }] }],
    });
  });

  after(async () => {
    // The agents' dispose kills the DNS containers (the reconciler would re-create deleted ones).
    await n2?.dispose();
    await server?.dispose();
    killAll();
  });

  test('the server creates kube-dns on the tenth address, coredns with 2 replicas, and the kubeconfig Secret', () => server.guard(async () => {
    const svc = await waitFor('kube-system/kube-dns', async () => { const r = await api<Service>(SVC); return r.status === 200 ? r.obj : undefined; }, 30_000, 200);
    assert.equal(svc.spec?.clusterIP, '127.24.0.10');
    assert.deepEqual(svc.spec?.ports?.map((p) => [p.name, p.port, p.protocol, p.targetPort]), [['dns', 53, 'UDP', 'dns'], ['dns-tcp', 53, 'TCP', 'dns-tcp']]);
    const d = await must<Deployment>(DEPLOY);
    assert.equal(d.spec?.replicas, 2);
    assert.equal(d.spec?.template.metadata?.labels?.['k8s-app'], 'kube-dns');
    assert.ok(d.spec?.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, 'one node: preferred anti-affinity');
    const c = d.spec!.template.spec!.containers[0]!;
    assert.equal(c.command?.[0], process.execPath, 'this installation\'s node');
    assert.match(c.args?.[0] ?? '', /\/bin\/trireme$/);
    const secret = await must<Secret>('/api/v1/namespaces/kube-system/secrets/trireme-dns-kubeconfig');
    const kc = Buffer.from(secret.data?.kubeconfig ?? '', 'base64').toString('utf8');
    assert.match(kc, new RegExp(`server: ${server.url.replaceAll('.', '\\.')}`));
    assert.match(kc, /client-certificate-data/);
  }));

  test('both replicas run `trireme dns` and answer on their allocated UDP and TCP ports on the node IP', { skip: needs(deps.dig) }, () => server.guard(async () => {
    const pods = await readyDnsPods(2);
    const web = await must<Service>('/api/v1/namespaces/default/services/web');
    for (const p of pods) {
      const { udp, tcp } = ports(p);
      assert.equal(p.status?.podIP, N1);
      const r = resolverAt(N1, udp);
      assert.deepEqual(await r.resolve4('web.default.svc.cluster.local'), [web.spec!.clusterIP!]);
      assert.deepEqual(await r.resolve4('kube-dns.kube-system.svc.cluster.local'), ['127.24.0.10']);
      assert.deepEqual(await r.resolve4('kubernetes.default.svc.cluster.local'), ['127.24.0.1']);
      assert.deepEqual(await r.resolveSrv('_pg._tcp.db.default.svc.cluster.local'), [{ name: 'db-0.db.default.svc.cluster.local', port: 26300, priority: 0, weight: 100 }]);
      assert.deepEqual(await r.reverse('127.24.0.10'), ['kube-dns.kube-system.svc.cluster.local']);
      await assert.rejects(r.resolve4('nope.default.svc.cluster.local'), { code: 'ENOTFOUND' });
      const out = (await run(pathOf(deps.dig), [`@${N1}`, '-p', String(tcp), '+tcp', '+time=2', '+tries=1', 'db-0.db.default.svc.cluster.local'])).stdout;
      assert.match(out, /status: NOERROR/);
      assert.match(out, /db-0\.db\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+127\.0\.24\.2/);
    }
    // Answers follow the API without a restart (the informers' watch).
    await must('/api/v1/namespaces/default/services', 'POST', { metadata: { name: 'late' }, spec: { ports: [{ port: 81 }] } });
    const late = await must<Service>('/api/v1/namespaces/default/services/late');
    const r = resolverAt(N1, ports(pods[0]!).udp);
    await waitFor('late.default answered', async () => ((await r.resolve4('late.default.svc.cluster.local').catch((): string[] => [])).includes(late.spec!.clusterIP!) ? true : undefined), 10_000, 100);
  }));

  test('deleted, scaled to 0, Service deleted: each is put back', () => server.guard(async () => {
    const before = await must<Deployment>(DEPLOY);
    await must(`${DEPLOY}?propagationPolicy=Background`, 'DELETE');
    await waitFor('coredns re-created', async () => {
      const r = await api<Deployment>(DEPLOY);
      return r.status === 200 && r.obj.metadata?.uid !== before.metadata?.uid ? true : undefined;
    }, 30_000, 200);

    await must(`${DEPLOY}/scale`, 'PATCH', { spec: { replicas: 0 } }, 'application/merge-patch+json');
    await waitFor('coredns back to 2 replicas', async () => ((await must<Deployment>(DEPLOY)).spec?.replicas === 2 ? true : undefined), 30_000, 200);

    const svcBefore = await must<Service>(SVC);
    await must(SVC, 'DELETE');
    const svc = await waitFor('kube-dns re-created', async () => {
      const r = await api<Service>(SVC);
      return r.status === 200 && r.obj.metadata?.uid !== svcBefore.metadata?.uid ? r.obj : undefined;
    }, 30_000, 200);
    assert.equal(svc.spec?.clusterIP, '127.24.0.10');
    await readyDnsPods(2);
  }));

  test('a second node: anti-affinity becomes required and the replicas spread over both nodes', () => server.guard(async () => {
    n2 = await startAgent(server, { host: N2, nodeName: 'dns-n2', portRange: [26290, 26339] });
    await waitFor('required anti-affinity', async () => {
      const d = await must<Deployment>(DEPLOY);
      return d.spec?.template.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? true : undefined;
    }, 30_000, 200);
    const pods = await waitFor('2 Ready DNS pods on distinct nodes', async () => {
      const all = await listPods(server, 'kube-system', 'k8s-app=kube-dns');
      const ready = all.filter(podReady);
      const nodes = new Set(ready.map((p) => p.spec?.nodeName));
      return all.length === 2 && ready.length === 2 && nodes.size === 2 ? ready : undefined;
    }, 120_000, 500);
    for (const p of pods) {
      const r = resolverAt(p.status!.podIP!, ports(p).udp);
      assert.deepEqual(await r.resolve4('kube-dns.kube-system.svc.cluster.local'), ['127.24.0.10']);
    }
  }));

  test('`trireme dns` by hand: port 0, the ready file, a forwarded name gets SERVFAIL from a dead upstream', () => server.guard(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trireme-dns-'));
    const child = spawn(process.execPath, [cliMain, 'dns', '--kubeconfig', server.kubeconfig, '--listen', `${N1}:0`, '--data-dir', dir,
      '--upstream', `${N1}:9`, '--upstream-timeout', '300', '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    tracker.track(child, false);
    try {
      const ready = await waitFor('the ready file', async () => readReadyFile(dir)?.dns, 20_000, 100);
      assert.equal(ready.udp.port, ready.tcp.port);
      const r = resolverAt(N1, ready.udp.port);
      assert.deepEqual(await r.resolve4('db.default.svc.cluster.local'), [N2]);
      await assert.rejects(r.resolve4('example.org'), { code: 'ESERVFAIL' });
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  }));
});
