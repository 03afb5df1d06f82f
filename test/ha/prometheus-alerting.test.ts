// Alerting end to end with the real parts: three `trireme server` processes on a managed etcd
// (127.0.50.1-3), the real Prometheus (Debian `prometheus`) scraping each server's /metrics over
// HTTPS with the cluster CA and the admin client certificate, evaluating the shipped rules (with
// every `for:` shortened to 3s), and the real Alertmanager (Debian `prometheus-alertmanager`)
// routing to a webhook receiver of this test. Every server also runs the built-in evaluator
// (`--alert-webhook` to another path of the same receiver; only the controller-manager leader
// evaluates; each evaluator notifies a firing once). kill -9 of a server: TriremeServerDown for its instance fires through Alertmanager
// and through the built-in evaluator; the server restarts with its data dir: both resolve.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deps, needs, pathOf } from '../helpers/require-dep.js';
import { killAll, readCredentials, waitFor } from '../e2e/harness.js';
import { tracker } from '../e2e/harness/tracking.js';
import { freePorts } from '../../src/util/free-port.js';
import { SHIPPED_RULES } from '../../src/ops/alerts/start.js';
import type { WebhookMessage } from '../../src/ops/alerts/webhook.js';
import { HaServer } from './servers.js';

const HOST = '127.0.50.10';

function spawnTracked(bin: string, args: string[], log: string): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  tracker.track(child, true);
  const out = createWriteStream(log);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

async function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new Error(`${url}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`, { cause: e }));
        }
      });
    }).on('error', reject);
  });
}

/** Alerts named `alertname` with this instance, in the messages received on `path`. */
function statuses(received: Map<string, WebhookMessage[]>, path: string, instance: string): string[] {
  return (received.get(path) ?? []).flatMap((m) => m.alerts)
    .filter((a) => a.labels.alertname === 'TriremeServerDown' && a.labels.instance === instance)
    .map((a) => a.status);
}

describe('Prometheus and Alertmanager alert on a dead server; so does the built-in evaluator', { skip: needs(deps.etcd, deps.prometheus, deps.alertmanager), timeout: 600_000 }, () => {
  let root = '';
  const servers: HaServer[] = [];
  const received = new Map<string, WebhookMessage[]>();
  let hook: http.Server | undefined;
  let promPort = 0;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-alerting-'));
    const [hookPort, promListen, amPort] = await freePorts(HOST, 3);
    promPort = promListen!;
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        received.set(path, [...(received.get(path) ?? []), JSON.parse(body) as WebhookMessage]);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook!.listen(hookPort, HOST, r));

    // The shipped rules, every `for:` shortened so the test sees transitions in seconds.
    const rules = (await readFile(SHIPPED_RULES, 'utf8')).replace(/^(\s+)for: \S+$/gm, '$1for: 3s');
    const rulesFile = join(root, 'alerts.yaml');
    await writeFile(rulesFile, rules);

    // Kubernetes' leader timings (15 s leases): the 2 s default churns on a saturated machine, and
    // each new controller-manager leader starts a new evaluator, which notifies afresh.
    const alertArgs = ['--alert-webhook', `http://${HOST}:${hookPort}/builtin`, '--alert-rules', rulesFile, '--alert-interval', '5',
      '--leader-elect-lease-duration', '15', '--leader-elect-renew-deadline', '10', '--leader-elect-retry-period', '2'];
    for (const [i, name] of ['s1', 's2', 's3'].entries()) servers.push(await HaServer.create(root, name, `127.0.50.${i + 1}`));
    await servers[0]!.start(['--cluster-init', ...alertArgs]);
    const token = (await readFile(join(servers[0]!.dataDir, 'token'), 'utf8')).trim();
    await servers[1]!.start(['--server', servers[0]!.url, '--token', token, ...alertArgs]);
    await servers[2]!.start(['--server', servers[0]!.url, '--token', token, ...alertArgs]);

    // Prometheus scrapes the three servers as job trireme-server with the admin identity.
    const creds = readCredentials(servers[0]!.kubeconfig);
    const tls = join(root, 'prom-tls');
    await mkdir(tls, { recursive: true });
    await writeFile(join(tls, 'ca.crt'), creds.ca);
    await writeFile(join(tls, 'client.crt'), creds.cert!);
    await writeFile(join(tls, 'client.key'), creds.key!, { mode: 0o600 });
    const promConfig = [
      // Scrapes every 5 s within 4.5 s: on a saturated machine (2 cores shared with other test
      // runs) a live server's /metrics has been seen to take seconds, which would read as down.
      'global: { scrape_interval: 5s, evaluation_interval: 1s, scrape_timeout: 4500ms }',
      `rule_files: [${JSON.stringify(rulesFile)}]`,
      `alerting: { alertmanagers: [ { static_configs: [ { targets: ["${HOST}:${amPort}"] } ] } ] }`,
      'scrape_configs:',
      '  - job_name: trireme-server',
      '    scheme: https',
      `    tls_config: { ca_file: ${JSON.stringify(join(tls, 'ca.crt'))}, cert_file: ${JSON.stringify(join(tls, 'client.crt'))}, key_file: ${JSON.stringify(join(tls, 'client.key'))} }`,
      `    static_configs: [ { targets: [${servers.map((s) => JSON.stringify(`${s.host}:${s.port}`)).join(', ')}] } ]`,
    ].join('\n');
    await writeFile(join(root, 'prometheus.yml'), `${promConfig}\n`);
    const amConfig = [
      'route: { receiver: test, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }',
      `receivers: [ { name: test, webhook_configs: [ { url: "http://${HOST}:${hookPort}/alertmanager", send_resolved: true } ] } ]`,
    ].join('\n');
    await writeFile(join(root, 'alertmanager.yml'), `${amConfig}\n`);
    spawnTracked(pathOf(deps.alertmanager), [`--config.file=${join(root, 'alertmanager.yml')}`, `--storage.path=${join(root, 'am-data')}`,
      `--web.listen-address=${HOST}:${amPort}`, '--cluster.listen-address='], join(root, 'alertmanager.log'));
    spawnTracked(pathOf(deps.prometheus), [`--config.file=${join(root, 'prometheus.yml')}`, `--storage.tsdb.path=${join(root, 'prom-data')}`,
      `--web.listen-address=${HOST}:${promPort}`], join(root, 'prometheus.log'));
  });

  after(async () => {
    try {
      for (const s of servers) if (s.running()) await s.stop().catch(() => undefined);
      // Alertmanager and Prometheus first: Alertmanager re-sends to the hook over a keep-alive
      // connection, which close() would wait for forever.
      killAll();
      hook?.closeAllConnections();
      await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    } finally {
      killAll();
      if (process.env.E2E_KEEP === undefined) await rm(root, { recursive: true, force: true });
      else console.error(`kept ${root}`);
    }
  });

  it('fires when a server dies and resolves when it returns, through Alertmanager and the built-in evaluator', async () => {
    type Query = { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
    await waitFor('Prometheus to scrape all three servers', async () => {
      const q = (await getJson(`http://${HOST}:${promPort}/api/v1/query?query=up%7Bjob%3D%22trireme-server%22%7D`).catch(() => ({}))) as Query;
      const up = q.data?.result?.filter((r) => r.value[1] === '1') ?? [];
      return up.length === 3 || undefined;
    }, 90_000, 500).catch(async (e: unknown) => {
      // Say why: each target's health, last error and scrape duration as Prometheus saw them.
      const t = (await getJson(`http://${HOST}:${promPort}/api/v1/targets`).catch((err: unknown) => String(err))) as { data?: { activeTargets?: { scrapeUrl: string; health: string; lastError: string; lastScrapeDuration: number }[] } } | string;
      const targets = typeof t === 'string' ? t : (t.data?.activeTargets ?? []).map((x) => `${x.scrapeUrl} ${x.health} ${x.lastScrapeDuration.toFixed(3)}s ${x.lastError}`).join('; ');
      throw new Error(`${(e as Error).message}; targets: ${targets}`, { cause: e });
    });
    // The series the rules need are there, from real scrapes.
    for (const query of ['trireme_etcd_has_quorum', 'trireme_leader{lease="kube-system/kube-controller-manager"}', 'trireme_certificate_expiry_timestamp_seconds']) {
      const q = (await getJson(`http://${HOST}:${promPort}/api/v1/query?query=${encodeURIComponent(query)}`)) as Query;
      assert.ok((q.data?.result?.length ?? 0) > 0, `Prometheus has ${query}`);
    }
    const victim = servers[2]!;
    const instance = `${victim.host}:${victim.port}`;
    assert.deepEqual(statuses(received, '/alertmanager', instance), [], 'nothing fired while all servers ran');

    await victim.kill();
    await waitFor(`TriremeServerDown for ${instance} through Alertmanager`, async () => statuses(received, '/alertmanager', instance).includes('firing') || undefined, 90_000, 250);
    await waitFor(`TriremeServerDown for ${instance} from the built-in evaluator`, async () => statuses(received, '/builtin', instance).includes('firing') || undefined, 90_000, 250);
    // The victim's firing (a loaded machine can also make a live server miss a scrape: its own
    // alert is another message, or another alert of the same message).
    const victimFiring = (a: WebhookMessage['alerts'][number]) => a.labels.alertname === 'TriremeServerDown' && a.labels.instance === instance && a.status === 'firing';
    const am = (received.get('/alertmanager') ?? []).find((m) => m.alerts.some(victimFiring))!;
    assert.equal(am.version, '4');
    const builtin = (received.get('/builtin') ?? []).find((m) => m.alerts.some(victimFiring))!;
    assert.equal(builtin.version, '4');
    const amAlert = am.alerts.find(victimFiring)!;
    const ownAlert = builtin.alerts.find(victimFiring)!;
    // The same alert: same labels and annotations from the same rule.
    assert.deepEqual(ownAlert.labels, amAlert.labels);
    assert.deepEqual(ownAlert.annotations, amAlert.annotations);
    assert.equal(amAlert.annotations.summary, `API server ${instance} is down`);

    await victim.start();
    await waitFor(`TriremeServerDown for ${instance} to resolve through Alertmanager`, async () => statuses(received, '/alertmanager', instance).includes('resolved') || undefined, 90_000, 250);
    await waitFor(`TriremeServerDown for ${instance} to resolve from the built-in evaluator`, async () => statuses(received, '/builtin', instance).includes('resolved') || undefined, 90_000, 250);
    const own = statuses(received, '/builtin', instance);
    // One evaluator (named by its externalURL, the server it runs on) notifies a firing once.
    const firings = (received.get('/builtin') ?? []).flatMap((m) => m.alerts.filter((a) => a.labels.alertname === 'TriremeServerDown' && a.labels.instance === instance && a.status === 'firing').map(() => m.externalURL));
    assert.ok(firings.length >= 1);
    assert.equal(new Set(firings).size, firings.length, `each evaluator sent one firing message: ${own.join(', ')} from ${firings.join(', ')}`);
    assert.equal(own.at(-1), 'resolved');
  });
});
