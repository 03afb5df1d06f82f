// A paused leader, with real processes: one `trireme apiserver` (SQLite) and two standalone
// `trireme controller-manager --kubeconfig` processes with the controller-manager identity
// (system:kube-controller-manager, fenced always). A ReplicaSet of 100 is created; while the
// leader is creating its pods it is frozen with SIGSTOP past its lease; the other takes the
// Lease over and finishes the job. On SIGCONT the frozen one's late writes (the rest of its
// create burst) are refused by the fence (counted by the server's
// trireme_apiserver_fenced_writes_total) and it exits non-zero; the ReplicaSet ends with exactly
// 100 pods, and no pod was ever created beyond 100 (a watch from before the ReplicaSet sees 100
// ADDED and no DELETED). Each win is a LeaderElection Event about the Lease. Also:
// `--no-leader-elect` no longer exists (a one-line CLI error). The same for two standalone
// `trireme scheduler` processes (system:kube-scheduler) binding 100 pods to two fake nodes:
// frozen mid-burst, any late bind is fenced (a scheduler frozen between two binds may have none:
// the count is reported), it exits 1, every pod is bound once.
// Binds 127.0.3.10 (this helper's loopback range).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { ensurePki } from '../../src/apiserver/pki.js';
import { renderKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { ApiClient } from '../../src/client/api-client.js';
import { loadKubeconfig, type ClientConfig } from '../../src/client/config.js';
import { resource } from '../../src/client/resources.js';
import { launchCli, logTail } from '../../src/launch/cli-process.js';
import { ChildTracker, exitOf, hasExited, type ExitInfo } from '../../src/launch/children.js';
import { pollUntil } from '../../src/util/poll.js';

const HOST = '127.0.3.10';
const REPLICAS = 100;
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tracker = new ChildTracker();
tracker.installExitHooks();
after(() => tracker.killAll());

const leases = resource('coordination.k8s.io', 'leases');
const pods = resource('', 'pods');
const replicasets = resource('apps', 'replicasets');

type Component = 'controller-manager' | 'scheduler';
const LEASE: Record<Component, string> = { 'controller-manager': 'kube-controller-manager', scheduler: 'kube-scheduler' };

function startComponent(what: Component, kubeconfig: string, logFile: string): { child: ChildProcess; exited: Promise<ExitInfo> } {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, ['--import', 'reflect-metadata', MAIN, what, '--kubeconfig', kubeconfig, '--log-format', 'json'], { stdio: ['ignore', fd, fd], detached: true });
    tracker.track(child, true);
    return { child, exited: exitOf(child) };
  } finally {
    closeSync(fd);
  }
}

async function holder(admin: ApiClient, lease = 'kube-controller-manager'): Promise<string> {
  try {
    return (await admin.get<Lease & KubeObject>(leases, 'kube-system', lease)).spec?.holderIdentity ?? '';
  } catch {
    return '';
  }
}

/** GET a text path (here /metrics) with the admin's client certificate. */
function getText(cfg: ClientConfig, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, cfg.server), { method: 'GET', ca: cfg.caPem, cert: cfg.certPem, key: cfg.keyPem, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function fencedWrites(admin: ApiClient, lease = 'kube-controller-manager'): Promise<number> {
  const text = await getText(admin.config, '/metrics');
  const m = new RegExp(`^trireme_apiserver_fenced_writes_total\\{lease="kube-system/${lease}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** `trireme apiserver` on HOST, its admin client, and a kubeconfig for `user` signed by its CA. */
async function apiWithIdentity(root: string, serverLog: string, user: string): Promise<{ admin: ApiClient; kubeconfig: string }> {
  const dataDir = join(root, 'data');
  const api = await launchCli({ entry: MAIN, args: ['apiserver', '--data-dir', dataDir, '--bind-address', HOST, '--https-port', '0', '--log-format', 'json'], dataDir, logFile: serverLog, tracker });
  const admin = new ApiClient(loadKubeconfig(api.ready.apiServer!.kubeconfig));
  // The component's identity, signed by the cluster CA (as `trireme server` issues it).
  const pki = await ensurePki(dataDir, { sans: [HOST] });
  const cert = await pki.issueClientCert({ commonName: user, organizations: ['system:masters'] });
  const kubeconfig = join(root, 'component.kubeconfig');
  await writeFile(kubeconfig, renderKubeconfig({ serverUrl: api.ready.apiServer!.url, caCertPem: pki.caCertPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, userName: 'component' }), { mode: 0o600 });
  return { admin, kubeconfig };
}

test('a paused controller-manager leader: its late writes are fenced, it exits, nothing is done twice', { timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'trireme-paused-'));
  const serverLog = join(root, 'apiserver.log');
  const logs = [join(root, 'cm-a.log'), join(root, 'cm-b.log')];
  let admin: ApiClient | undefined;
  let stopWatch: (() => void) | undefined;
  const paused: ChildProcess[] = [];
  try {
    const started = await apiWithIdentity(root, serverLog, 'system:kube-controller-manager');
    admin = started.admin;
    const kubeconfig = started.kubeconfig;

    // The flag is gone: a one-line error, non-zero exit.
    const noElect = spawnSync(process.execPath, ['--import', 'reflect-metadata', MAIN, 'controller-manager', '--kubeconfig', kubeconfig, '--no-leader-elect'], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(noElect.status, 0);
    assert.match(noElect.stderr, /unknown option '--no-leader-elect'/);

    const a = startComponent('controller-manager', kubeconfig, logs[0]!);
    const leaderA = await pollUntil('controller manager A to lead', async () => (await holder(admin!)) || undefined, { timeoutMs: 30_000 });
    await pollUntil('A to log that it leads', () => readFileSync(logs[0]!, 'utf8').includes('caches synced') || undefined, { timeoutMs: 30_000 });
    const b = startComponent('controller-manager', kubeconfig, logs[1]!);
    await pollUntil('B to campaign', () => readFileSync(logs[1]!, 'utf8').includes('campaigning for leadership') || undefined, { timeoutMs: 30_000 });
    assert.equal(await holder(admin), leaderA, 'A still leads once B campaigns');

    // Every pod ever created shows up here as ADDED.
    const added = new Set<string>();
    let deleted = 0;
    const listed = await admin.list<Pod & KubeObject>(pods, 'default');
    assert.equal(listed.items.length, 0);
    const watch = admin.watch(pods, 'default', { resourceVersion: listed.resourceVersion }, (ev) => {
      if (ev.type === 'ADDED') {
        added.add(ev.object.metadata!.name!);
        // Freeze the leader mid-burst: it has more creates to send.
        if (paused.length === 0) { a.child.kill('SIGSTOP'); paused.push(a.child); }
      }
      if (ev.type === 'DELETED') deleted++;
    }, () => undefined);
    stopWatch = () => watch.stop();

    await admin.create<KubeObject>(replicasets, 'default', {
      metadata: { name: 'web' },
      spec: { replicas: REPLICAS, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    } as KubeObject);
    await pollUntil('A to be frozen', () => paused.length > 0 || undefined, { timeoutMs: 30_000 });
    const atPause = added.size;
    assert.ok(atPause < REPLICAS, `A finished its burst (${atPause} pods) before it could be frozen`);

    // B takes the Lease over (A is frozen past its lease duration) and completes the ReplicaSet.
    const leaderB = await pollUntil('B to take over', async () => { const h = await holder(admin!); return h && h !== leaderA ? h : undefined; }, { timeoutMs: 30_000 });
    await pollUntil(`${REPLICAS} pods`, () => added.size >= REPLICAS || undefined, { timeoutMs: 30_000 });
    const fencedBefore = await fencedWrites(admin);

    // A wakes up with its burst half done: its late creates are refused, and it stops leading.
    a.child.kill('SIGCONT');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([a.exited, new Promise<undefined>((r) => { timer = setTimeout(r, 30_000, undefined); })]);
    clearTimeout(timer);
    assert.ok(exit, 'A did not exit after it was resumed');
    assert.equal(exit.code, 1, `A exited with ${JSON.stringify(exit)}`);
    const fenced = (await fencedWrites(admin)) - fencedBefore;
    assert.ok(fenced > 0, 'no late write of A reached the server to be fenced');
    assert.match(readFileSync(serverLog, 'utf8'), /fenced write refused/);
    assert.match(readFileSync(logs[0]!, 'utf8'), /leadership lost|leader election lost/);

    // Nothing done twice: exactly REPLICAS pods were ever created, none deleted, B still leads.
    await new Promise((r) => setTimeout(r, 1_500));
    const final = await admin.list<Pod & KubeObject>(pods, 'default', { labelSelector: 'app=web' });
    assert.equal(final.items.length, REPLICAS);
    assert.equal(added.size, REPLICAS, 'a pod beyond the replica count was created');
    assert.equal(deleted, 0);
    assert.equal(await holder(admin), leaderB);
    assert.ok(!hasExited(b.child), 'B keeps running');
    // Each win is an Event about the Lease, written with the winner's fence.
    const events = await admin.list<KubeObject & { reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }>(resource('', 'events'), 'kube-system');
    const elections = events.items.filter((e) => e.reason === 'LeaderElection' && e.involvedObject?.kind === 'Lease' && e.involvedObject.name === 'kube-controller-manager').map((e) => e.message);
    assert.ok(elections.includes(`${leaderA} became leader`) && elections.includes(`${leaderB} became leader`), JSON.stringify(elections));
    t.diagnostic(`frozen after ${atPause} pods; ${fenced} late writes fenced; leader ${leaderA} → ${leaderB}`);
  } catch (err) {
    const tails = [serverLog, ...logs].map((f) => `--- ${f}\n${logTail(f, 30)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
  } finally {
    stopWatch?.();
    for (const c of paused) c.kill('SIGCONT');
    admin?.close();
    tracker.killAll();
    await rm(root, { recursive: true, force: true });
  }
});

test('a paused scheduler leader: its late binds are fenced, it exits, every pod is bound once', { timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'trireme-paused-sched-'));
  const serverLog = join(root, 'apiserver.log');
  const logs = [join(root, 'sched-a.log'), join(root, 'sched-b.log')];
  const lease = LEASE.scheduler;
  let admin: ApiClient | undefined;
  let stopWatch: (() => void) | undefined;
  const paused: ChildProcess[] = [];
  try {
    const started = await apiWithIdentity(root, serverLog, 'system:kube-scheduler');
    admin = started.admin;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const name of ['n1', 'n2']) {
      const node = await admin.create<KubeObject>(resource('', 'nodes'), undefined, { metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} } as KubeObject);
      await admin.update<KubeObject>(resource('', 'nodes'), undefined, { ...node, status: {
        capacity: { cpu: '64', memory: '256Gi', pods: '500' }, allocatable: { cpu: '64', memory: '256Gi', pods: '500' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test node', lastHeartbeatTime: now, lastTransitionTime: now }],
      } } as KubeObject, { subresource: 'status' });
    }
    const a = startComponent('scheduler', started.kubeconfig, logs[0]!);
    const leaderA = await pollUntil('scheduler A to lead', async () => (await holder(admin!, lease)) || undefined, { timeoutMs: 30_000 });
    await pollUntil('A to start scheduling', () => readFileSync(logs[0]!, 'utf8').includes('scheduler started') || undefined, { timeoutMs: 30_000 });
    const b = startComponent('scheduler', started.kubeconfig, logs[1]!);
    await pollUntil('B to campaign', () => readFileSync(logs[1]!, 'utf8').includes('campaigning for leadership') || undefined, { timeoutMs: 30_000 });

    // Every bind shows up as a pod gaining spec.nodeName; a pod's node must never change.
    const boundTo = new Map<string, string>();
    let rebound = 0;
    const listed = await admin.list<Pod & KubeObject>(pods, 'default');
    const watch = admin.watch(pods, 'default', { resourceVersion: listed.resourceVersion }, (ev) => {
      const name = ev.object.metadata!.name!;
      const node = (ev.object.spec as { nodeName?: string } | undefined)?.nodeName;
      if (!node) return;
      const before = boundTo.get(name);
      if (before !== undefined && before !== node) rebound++;
      boundTo.set(name, node);
      if (paused.length === 0) { a.child.kill('SIGSTOP'); paused.push(a.child); }
    }, () => undefined);
    stopWatch = () => watch.stop();
    await Promise.all(Array.from({ length: REPLICAS }, (_, i) => admin!.create<KubeObject>(pods, 'default', { metadata: { name: `p-${i}` }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject)));
    await pollUntil('A to be frozen', () => paused.length > 0 || undefined, { timeoutMs: 30_000 });
    const atPause = boundTo.size;
    assert.ok(atPause < REPLICAS, `A bound every pod (${atPause}) before it could be frozen`);

    const leaderB = await pollUntil('B to take over', async () => { const h = await holder(admin!, lease); return h && h !== leaderA ? h : undefined; }, { timeoutMs: 30_000 });
    await pollUntil(`${REPLICAS} pods bound`, () => boundTo.size >= REPLICAS || undefined, { timeoutMs: 60_000 });
    const fencedBefore = await fencedWrites(admin, lease);

    a.child.kill('SIGCONT');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([a.exited, new Promise<undefined>((r) => { timer = setTimeout(r, 30_000, undefined); })]);
    clearTimeout(timer);
    assert.ok(exit, 'A did not exit after it was resumed');
    assert.equal(exit.code, 1, `A exited with ${JSON.stringify(exit)}`);
    // A frozen between two binds may notice the lost Lease before it sends another: then it has
    // no late write to refuse. What must hold either way: no pod bound twice (below).
    const fenced = (await fencedWrites(admin, lease)) - fencedBefore;

    await new Promise((r) => setTimeout(r, 1_000));
    const final = await admin.list<Pod & KubeObject>(pods, 'default');
    assert.equal(final.items.length, REPLICAS);
    assert.ok(final.items.every((p) => (p.spec as { nodeName?: string }).nodeName === boundTo.get(p.metadata!.name!)));
    assert.equal(rebound, 0);
    assert.equal(await holder(admin, lease), leaderB);
    assert.ok(!hasExited(b.child), 'B keeps running');
    t.diagnostic(`frozen after ${atPause} binds; ${fenced} late writes fenced; leader ${leaderA} → ${leaderB}`);
  } catch (err) {
    const tails = [serverLog, ...logs].map((f) => `--- ${f}\n${logTail(f, 30)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
  } finally {
    stopWatch?.();
    for (const c of paused) c.kill('SIGCONT');
    admin?.close();
    tracker.killAll();
    await rm(root, { recursive: true, force: true });
  }
});
