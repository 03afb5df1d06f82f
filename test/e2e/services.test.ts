// End-to-end: Services' endpoints on a real cluster — `trireme server` with its local agent
// (node n1, 127.0.22.21) — through the real kubectl: Endpoints and EndpointSlices follow the
// pods' readiness with the host ports the agent allocated (each answers HTTP), a headless
// Service gets Endpoints too, a selector-less Service keeps its hand-made Endpoints (mirrored
// into a slice), `kubectl get endpoints,endpointslices` prints its tables, pods see the
// Kubernetes service variables (not with enableServiceLinks: false), and deleting a Service
// deletes its Endpoints and slices. after() deletes the workloads, stops the server and kills
// any container left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { deleteWorkloads, fixtureText, killAll, listPods, podReady, show, startServer, waitFor, type ServerHandle } from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';

let server: ServerHandle;

async function k(args: string[], input?: string): Promise<string> {
  const r = await server.kubectl(args, { timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${show(r)}`);
  return r.stdout;
}

async function get<T>(path: string): Promise<T | undefined> {
  const r = await server.request(path);
  if (r.status === 404) return undefined;
  assert.equal(r.status, 200, `GET ${path}: ${r.text}`);
  return JSON.parse(r.text) as T;
}

const endpoints = (name: string) => get<Endpoints>(`/api/v1/namespaces/default/endpoints/${name}`);
const service = (name: string) => get<Service>(`/api/v1/namespaces/default/services/${name}`);
async function slices(service: string): Promise<EndpointSlice[]> {
  const l = await get<{ items: EndpointSlice[] }>(`/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`);
  return l?.items ?? [];
}

/** The host port the agent allocated to the pod's "web/http" port. */
function allocatedPort(p: Pod): number {
  const rec = p.status?.conditions?.find((c) => c.type === 'trireme.io/PortsAllocated')?.message;
  const port = (JSON.parse(rec ?? '{}') as Record<string, number>)['web/http'];
  assert.ok(port, `pod ${p.metadata?.name} records no port: ${rec}`);
  return port;
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** address → [ready?, port] of an Endpoints, keyed by pod name. */
function byPod(ep: Endpoints | undefined): Map<string, { ready: boolean; ip: string; port: number | undefined; node: string | undefined }> {
  const out = new Map<string, { ready: boolean; ip: string; port: number | undefined; node: string | undefined }>();
  for (const ss of ep?.subsets ?? []) {
    for (const [list, ready] of [[ss.addresses, true], [ss.notReadyAddresses, false]] as const) {
      for (const a of list ?? []) out.set(a.targetRef?.name ?? '', { ready, ip: a.ip, port: ss.ports?.[0]?.port, node: a.nodeName });
    }
  }
  return out;
}

/** pod name → ready condition over all slices. */
function sliceReadiness(list: EndpointSlice[]): Map<string, boolean | undefined> {
  return new Map(list.flatMap((s) => s.endpoints.map((e) => [e.targetRef?.name ?? '', e.conditions?.ready] as const)));
}

describe('services: endpoints, endpoint slices, service variables', { timeout: 180_000, skip: needs(deps.kubectl) }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.22.21', agent: { nodeName: 'n1' } });
  });

  after(async () => {
    if (server !== undefined) {
      await server.kubectl(['delete', 'services,endpoints', 'web', 'web-headless', 'ext', '--ignore-not-found'], { timeoutMs: 20_000 });
      const left = await deleteWorkloads(server);
      if (left.length > 0) process.stderr.write(`services e2e: pods left after cleanup: ${left.join(', ')}\n`);
    }
    await server?.dispose();
    killAll();
  });

  test('Endpoints and EndpointSlices follow readiness, on the allocated host ports', { timeout: 90_000 }, () => server.guard(async () => {
    await k(['apply', '-f', '-'], fixtureText('workloads/services.yaml'));
    const pods = await waitFor('2 ready svcweb pods', async () => {
      const l = await listPods(server, 'default', 'app=svcweb');
      return l.length === 2 && l.every(podReady) ? l : undefined;
    }, 40_000, 200);
    const names = pods.map((p) => p.metadata?.name ?? '').sort();

    // Endpoints: both ready, the node's IP, each pod on its own allocated port, which answers.
    const ep = await waitFor('Endpoints web with both pods ready', async () => {
      const e = await endpoints('web');
      const m = byPod(e);
      return names.every((n) => m.get(n)?.ready) ? e : undefined;
    }, 20_000, 200);
    assert.equal(ep.metadata?.labels?.['endpoints.kubernetes.io/managed-by'], 'endpoint-controller');
    assert.equal(ep.metadata?.labels?.tier, 'front');
    assert.ok(ep.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
    for (const p of pods) {
      const a = byPod(ep).get(p.metadata?.name ?? '')!;
      assert.deepEqual(a, { ready: true, ip: '127.0.22.21', port: allocatedPort(p), node: 'n1' });
      assert.notEqual(a.port, 8080, 'the endpoint carries the allocated port, not the declared one');
      assert.equal(await httpGet(a.ip, a.port!), `ok ${p.metadata?.name}\n`);
    }

    // EndpointSlices: labelled, owned by the Service, both endpoints ready.
    const svc = await service('web');
    const list = await waitFor('slices of web with both pods ready', async () => {
      const l = await slices('web');
      const r = sliceReadiness(l);
      return names.every((n) => r.get(n) === true) ? l : undefined;
    }, 20_000, 200);
    for (const s of list) {
      assert.equal(s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
      assert.equal(s.metadata?.ownerReferences?.[0]?.uid, svc?.metadata?.uid);
      assert.match(s.metadata?.name ?? '', /^web-/);
      assert.equal(s.addressType, 'IPv4');
    }

    // One pod turns not ready: notReadyAddresses, ready: false; then back.
    const [first] = names;
    await k(['exec', first!, '--', 'touch', 'notready']);
    await waitFor('the pod in notReadyAddresses', async () => (byPod(await endpoints('web')).get(first!)?.ready === false ? true : undefined), 20_000, 200);
    await waitFor('the slice endpoint ready: false', async () => {
      const l = await slices('web');
      const e = l.flatMap((s) => s.endpoints).find((x) => x.targetRef?.name === first);
      return e?.conditions?.ready === false && e.conditions.serving === false ? true : undefined;
    }, 20_000, 200);
    assert.equal(byPod(await endpoints('web')).get(names[1]!)?.ready, true);
    await k(['exec', first!, '--', 'rm', 'notready']);
    await waitFor('the pod ready again', async () => (byPod(await endpoints('web')).get(first!)?.ready === true ? true : undefined), 20_000, 200);

    // Headless: Endpoints too. Selector-less: the hand-made Endpoints unchanged, mirrored.
    await waitFor('Endpoints web-headless', async () => (byPod(await endpoints('web-headless')).size === 2 ? true : undefined), 20_000, 200);
    const ext = await endpoints('ext');
    assert.deepEqual(ext?.subsets, [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'db', port: 5432, protocol: 'TCP' }] }]);
    assert.equal(ext?.metadata?.labels?.['endpoints.kubernetes.io/managed-by'], undefined);
    const mirrored = await waitFor('the mirrored slice of ext', async () => {
      const l = await slices('ext');
      return l.length === 1 ? l[0] : undefined;
    }, 20_000, 200);
    assert.equal(mirrored.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
    assert.deepEqual(mirrored.endpoints.map((e) => [e.addresses, e.conditions?.ready]), [[['192.0.2.10'], true]]);
    assert.deepEqual(mirrored.ports, [{ name: 'db', port: 5432, protocol: 'TCP' }]);
    // default/kubernetes (Endpoints kept by the API servers) is mirrored too.
    await waitFor('the mirrored slice of kubernetes', async () => ((await slices('kubernetes')).length === 1 ? true : undefined), 20_000, 200);
  }));

  test('kubectl get endpoints,endpointslices prints their tables', { timeout: 30_000 }, () => server.guard(async () => {
    const out = await k(['get', 'endpoints,endpointslices', '-l', 'tier=front']);
    const lines = out.trim().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+ENDPOINTS\s+AGE$/, out);
    assert.match(out, /^endpoints\/web\s+127\.0\.22\.21:\d+,127\.0\.22\.21:\d+\s+\S+$/m, out);
    assert.match(out, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/m, out);
    assert.match(out, /^endpointslice\.discovery\.k8s\.io\/web-\S+\s+IPv4\s+\d+\s+127\.0\.22\.21\s+\S+$/m, out);
    const ext = await k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=ext']);
    assert.match(ext, /^ext-\S+\s+IPv4\s+5432\s+192\.0\.2\.10\s+\S+$/m, ext);
  }));

  test('pods get the service variables of their namespace; enableServiceLinks: false only the kubernetes ones', { timeout: 60_000 }, () => server.guard(async () => {
    const envPod = (name: string, links: boolean) => JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: {
        enableServiceLinks: links, terminationGracePeriodSeconds: 1, restartPolicy: 'Never',
        containers: [{ name: 'main', image: 'busybox', command: ['/bin/sh', '-c', 'env | sort'], env: [{ name: 'WEB_SERVICE_PORT', value: 'mine' }] }],
      },
    });
    await k(['apply', '-f', '-'], envPod('envlinks', true));
    await k(['apply', '-f', '-'], envPod('envnolinks', false));
    const logs = async (name: string): Promise<Map<string, string>> => {
      await waitFor(`pod ${name} to finish`, async () => ((await get<Pod>(`/api/v1/namespaces/default/pods/${name}`))?.status?.phase === 'Succeeded' ? true : undefined), 30_000, 200);
      const text = await k(['logs', name]);
      return new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    };
    const web = await service('web');
    const kube = await service('kubernetes');
    const withLinks = await logs('envlinks');
    assert.equal(withLinks.get('WEB_SERVICE_HOST'), web?.spec?.clusterIP);
    assert.equal(withLinks.get('WEB_SERVICE_PORT'), 'mine', 'explicit env wins');
    assert.equal(withLinks.get('WEB_SERVICE_PORT_HTTP'), '80');
    assert.equal(withLinks.get('WEB_PORT_80_TCP'), `tcp://${web?.spec?.clusterIP}:80`);
    assert.equal(withLinks.get('WEB_HEADLESS_SERVICE_HOST'), undefined, 'headless Services give no variables');
    assert.equal(withLinks.get('KUBERNETES_SERVICE_HOST'), kube?.spec?.clusterIP);
    assert.equal(withLinks.get('KUBERNETES_SERVICE_PORT'), '443');
    const noLinks = await logs('envnolinks');
    assert.equal(noLinks.get('KUBERNETES_SERVICE_HOST'), kube?.spec?.clusterIP);
    assert.equal(noLinks.get('WEB_SERVICE_HOST'), undefined);
    assert.equal(noLinks.get('EXT_SERVICE_HOST'), undefined);
  }));

  test('deleting a Service deletes its Endpoints and EndpointSlices', { timeout: 30_000 }, () => server.guard(async () => {
    await k(['delete', 'service', 'web']);
    await waitFor('Endpoints web gone', async () => ((await endpoints('web')) === undefined ? true : undefined), 20_000, 200);
    await waitFor('slices of web gone', async () => ((await slices('web')).length === 0 ? true : undefined), 20_000, 200);
    // The selector-less Service's Endpoints is the user's: deleting the Service leaves it.
    await k(['delete', 'service', 'ext']);
    await waitFor('the mirrored slice of ext gone', async () => ((await slices('ext')).length === 0 ? true : undefined), 20_000, 200);
    assert.ok(await endpoints('ext'), 'the hand-made Endpoints stays');
  }));
});
