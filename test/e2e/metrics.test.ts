// End to end: every component's /metrics on real processes, scraped and checked for its
// families with sane values, each linted by the real `promtool check metrics`.
// (1) `trireme server` with its local agent (127.0.51.1, SQLite), a Deployment of 2 with a
// readiness probe and a crash-looping pod: the API server's /metrics (requests, latency,
// in-flight, watches, store, leaders, work queues, scheduler, cluster state, certificates) and
// the agent's kubelet /metrics (container starts, restarts, probe results, heartbeat age), both
// refusing a client without a certificate. (2) `trireme apiserver` (127.0.51.2) with a
// standalone `trireme controller-manager` and `trireme scheduler`, each with
// --metrics-bind-address: once they lead, their /metrics show their leader status, work queues
// and scheduling attempts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureText, killAll, listPods, podReady, show, startServer, waitFor, waitNodeReady, type ServerHandle } from './harness.js';
import { tracker } from './harness/tracking.js';
import { cliMain, repoRoot } from './harness/paths.js';
import { deps, needs, pathOf } from '../helpers/require-dep.js';
import { ensurePki } from '../../src/apiserver/pki.js';
import { renderKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { launchCli, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { loadKubeconfig, type ClientConfig } from '../../src/client/config.js';
import { parseExposition } from '../../src/ops/alerts/exposition.js';
import { freePorts } from '../../src/util/free-port.js';
import { readReadyFile } from '../../src/cli/ready-file.js';

type Samples = ReturnType<typeof parseExposition>;

function get(url: string, tls?: { ca: string; cert?: string; key?: string }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { timeout: 10_000, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function scrape(url: string, cfg?: ClientConfig): Promise<{ text: string; samples: Samples }> {
  const r = await get(url, cfg ? { ca: cfg.caPem, ...(cfg.certPem ? { cert: cfg.certPem } : {}), ...(cfg.keyPem ? { key: cfg.keyPem } : {}) } : undefined);
  assert.equal(r.status, 200, `${url}: ${r.text.slice(0, 300)}`);
  return { text: r.text, samples: parseExposition(r.text) };
}

/** Values of `name` whose labels include `labels`. */
function values(s: Samples, name: string, labels: Record<string, string> = {}): number[] {
  return s.filter((x) => x.labels.__name__ === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).map((x) => x.value);
}
const one = (s: Samples, name: string, labels: Record<string, string> = {}): number | undefined => values(s, name, labels)[0];
const sum = (s: Samples, name: string, labels: Record<string, string> = {}): number => values(s, name, labels).reduce((a, b) => a + b, 0);

/**
 * `promtool check metrics` on the text: no naming problems, except
 * prom-client's own default gauges `nodejs_active_{handles,requests,resources}_total`, whose
 * names are prom-client's.
 */
function lint(text: string, what: string): void {
  const r = spawnSync(pathOf(deps.promtool), ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/.test(l));
  assert.deepEqual(problems, [], `promtool check metrics (${what})`);
  assert.ok(r.status === 0 || r.status === 3, `promtool exit ${r.status}`);
}

describe('metrics of every component', { skip: needs(deps.kubectl, deps.promtool), timeout: 300_000 }, () => {
  let server: ServerHandle;
  let root = '';
  let api: LaunchedProcess | undefined;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-e2e-metrics-'));
    server = await startServer({ host: '127.0.51.1', agent: { nodeName: 'm1' }, extraArgs: ['--service-cluster-ip-range', '127.51.0.0/16'] });
    await waitNodeReady(server, 'm1');
    const r = await server.kubectl(['apply', '-f', '-'], { input: fixtureText('metrics/workloads.yaml') });
    assert.equal(r.code, 0, show(r));
  });

  after(async () => {
    try {
      await server?.kubectl(['delete', 'deployment/web', 'pod/crashloop', '--wait=true', '--timeout=30s']).catch(() => undefined);
      await server?.dispose();
    } finally {
      killAll();
      if (process.env.E2E_KEEP === undefined && root !== '') await rm(root, { recursive: true, force: true });
    }
  });

  it('the API server serves requests, store, leaders, queues, scheduler, cluster state and certificates', async () => {
    await waitFor('2 ready web pods and a restarted crashloop', async () => {
      const pods = await listPods(server, 'default', 'app in (metrics-web, metrics-crash)');
      const web = pods.filter((p) => p.metadata?.labels?.app === 'metrics-web' && podReady(p));
      const crash = pods.find((p) => p.metadata?.name === 'crashloop');
      return (web.length === 2 && (crash?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1) || undefined;
    }, 90_000, 250);
    const cfg = loadKubeconfig(server.kubeconfig);
    const anonymous = await get(`${server.url}/metrics`, { ca: cfg.caPem });
    assert.equal(anonymous.status, 401, 'no credentials, no metrics');

    const s = await server.guard(() => waitFor('the cluster state to reach /metrics', async () => {
      const got = await scrape(`${server.url}/metrics`, cfg);
      return one(got.samples, 'trireme_deployment_replicas_available', { namespace: 'default', deployment: 'web' }) === 2 ? got : undefined;
    }, 30_000, 500));
    lint(s.text, 'server');
    const m = s.samples;
    assert.ok(sum(m, 'apiserver_request_total', { verb: 'create', resource: 'pods', code: '201' }) >= 3, 'pod creates counted');
    assert.ok(sum(m, 'apiserver_request_duration_seconds_count', { verb: 'list' }) > 0);
    assert.ok(sum(m, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' }) >= 1, 'this scrape is in flight');
    assert.ok(sum(m, 'apiserver_longrunning_requests', { resource: 'pods' }) >= 2, 'the agent, controllers and scheduler watch pods');
    assert.ok(sum(m, 'trireme_store_operation_duration_seconds_count', { backend: 'sqlite', operation: 'create' }) >= 3);
    assert.ok(one(m, 'trireme_store_revision', { backend: 'sqlite' })! > 10);
    assert.ok(one(m, 'trireme_store_size_bytes', { backend: 'sqlite' })! >= 4096);
    assert.equal(values(m, 'trireme_leader', { lease: 'kube-system/kube-controller-manager' }).filter((v) => v === 1).length, 1);
    assert.equal(values(m, 'trireme_leader', { lease: 'kube-system/kube-scheduler' }).filter((v) => v === 1).length, 1);
    assert.ok(sum(m, 'trireme_leader_transitions_total', { change: 'started' }) >= 2);
    assert.ok(one(m, 'scheduler_schedule_attempts_total', { result: 'scheduled' })! >= 3);
    assert.ok(sum(m, 'scheduler_scheduling_attempt_duration_seconds_count') >= 3);
    assert.equal(values(m, 'scheduler_pending_pods').length, 3);
    assert.ok(one(m, 'workqueue_adds_total', { name: 'deployment' })! >= 1);
    assert.ok(one(m, 'workqueue_adds_total', { name: 'replicaset' })! >= 1);
    assert.notEqual(one(m, 'workqueue_depth', { name: 'replicaset' }), undefined);
    assert.equal(one(m, 'trireme_node_ready', { node: 'm1' }), 1);
    assert.equal(one(m, 'trireme_deployment_replicas_desired', { namespace: 'default', deployment: 'web' }), 2);
    assert.ok(one(m, 'trireme_pod_container_status_restarts_total', { namespace: 'default', pod: 'crashloop', container: 'main' })! >= 1);
    const now = Date.now() / 1000;
    for (const certificate of ['ca', 'serving']) assert.ok(one(m, 'trireme_certificate_expiry_timestamp_seconds', { certificate })! > now + 30 * 86400, certificate);
    assert.ok(one(m, 'trireme_apiserver_process_cpu_seconds_total')! > 0);
  });

  it('the agent serves container starts, restarts, probe results and heartbeat age', async () => {
    const ready = readReadyFile(server.dataDir);
    const kubelet = ready?.kubelet;
    assert.ok(kubelet, 'the ready file names the kubelet port');
    const cfg = loadKubeconfig(server.kubeconfig);
    const url = `https://${kubelet.host}:${kubelet.port}/metrics`;
    assert.equal((await get(url, { ca: cfg.caPem })).status, 401, 'no client certificate, no metrics');
    const { text, samples: m } = await scrape(url, cfg);
    lint(text, 'agent');
    assert.ok(one(m, 'trireme_agent_container_starts_total', { result: 'started' })! >= 3);
    assert.ok(one(m, 'trireme_agent_container_restarts_total')! >= 1);
    assert.ok(one(m, 'trireme_agent_probe_results_total', { probe: 'readiness', result: 'success' })! >= 2);
    const age = one(m, 'trireme_agent_node_heartbeat_age_seconds');
    assert.ok(age !== undefined && age >= 0 && age < 10, `heartbeat age ${age}`);
    assert.ok(one(m, 'trireme_agent_pods')! >= 3);
    assert.ok(one(m, 'trireme_agent_process_resident_memory_bytes')! > 0);
  });

  it('a standalone controller manager and scheduler serve /metrics with --metrics-bind-address', async () => {
    const host = '127.0.51.2';
    const dataDir = join(root, 'apiserver');
    api = await launchCli({ entry: cliMain, cwd: repoRoot, tracker, dataDir, logFile: join(root, 'apiserver.log'),
      args: ['apiserver', '--data-dir', dataDir, '--bind-address', host, '--https-port', '0', '--service-cluster-ip-range', '127.51.128.0/17'] });
    const pki = await ensurePki(dataDir, { sans: [host] });
    const [cmPort, schedPort] = await freePorts(host, 2);
    const start = async (what: 'controller-manager' | 'scheduler', user: string, port: number) => {
      const cert = await pki.issueClientCert({ commonName: user, organizations: ['system:masters'] });
      const kubeconfig = join(root, `${what}.kubeconfig`);
      await writeFile(kubeconfig, renderKubeconfig({ serverUrl: api!.ready.apiServer!.url, caCertPem: pki.caCertPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, userName: what }), { mode: 0o600 });
      const fd = openSync(join(root, `${what}.log`), 'a');
      try {
        const child = spawn(process.execPath, ['--import', 'reflect-metadata', cliMain, what, '--kubeconfig', kubeconfig, '--metrics-bind-address', `${host}:${port}`], { cwd: repoRoot, stdio: ['ignore', fd, fd], detached: true });
        tracker.track(child, true);
      } finally {
        closeSync(fd);
      }
    };
    await start('controller-manager', 'system:kube-controller-manager', cmPort!);
    await start('scheduler', 'system:kube-scheduler', schedPort!);

    const cm = await waitFor('the standalone controller manager to lead', async () => {
      const r = await get(`http://${host}:${cmPort}/metrics`).catch(() => undefined);
      if (r?.status !== 200) return undefined;
      const m = parseExposition(r.text);
      return one(m, 'trireme_leader', { lease: 'kube-system/kube-controller-manager' }) === 1 && one(m, 'workqueue_adds_total', { name: 'replicaset' }) !== undefined ? { m, text: r.text } : undefined;
    }, 60_000, 250);
    lint(cm.text, 'controller-manager');
    assert.ok(one(cm.m, 'trireme_leader_transitions_total', { lease: 'kube-system/kube-controller-manager', change: 'started' })! >= 1);
    assert.notEqual(one(cm.m, 'workqueue_depth', { name: 'deployment' }), undefined);
    assert.notEqual(one(cm.m, 'workqueue_retries_total', { name: 'garbage-collector' }), undefined);
    assert.ok(one(cm.m, 'trireme_controller_manager_process_cpu_seconds_total')! > 0);
    assert.equal((await get(`http://${host}:${cmPort}/healthz`)).status, 200);
    assert.equal((await get(`http://${host}:${cmPort}/other`)).status, 404);

    const sched = await waitFor('the standalone scheduler to lead', async () => {
      const r = await get(`http://${host}:${schedPort}/metrics`).catch(() => undefined);
      if (r?.status !== 200) return undefined;
      const m = parseExposition(r.text);
      return one(m, 'trireme_leader', { lease: 'kube-system/kube-scheduler' }) === 1 && values(m, 'scheduler_pending_pods').length === 3 ? { m, text: r.text } : undefined;
    }, 60_000, 250);
    lint(sched.text, 'scheduler');
    assert.equal(one(sched.m, 'scheduler_schedule_attempts_total', { result: 'scheduled' }), 0, 'no node, nothing scheduled yet');
    assert.ok(one(sched.m, 'trireme_scheduler_process_cpu_seconds_total')! > 0);
  });
});
