// Test fixture for the balancer tests (trireme lb, HAProxy, keepalived): three real
// `trireme apiserver` processes on one etcd sharing one CA, a kubeconfig that points at a
// balancer, and a steady kubectl write loop whose acknowledged writes are checked afterwards.
// Guarantees: the servers share the first one's CA and token (copied into the others' data dirs
// before their first start, so ensurePki reuses them); every process is started through
// launchCli and tracked by the e2e tracker (killAll() ends them); the write loop is bounded
// (`maxAttempts`) and records every acknowledged name and every failure.
// Does not: remove directories (the tests do), or judge results (the tests assert).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { loadKubeconfig } from '../../src/client/config.js';
import { launchCli, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { cliMain } from '../e2e/harness/paths.js';
import { probeReady } from '../e2e/harness/server.js';
import { tracker } from '../e2e/harness/tracking.js';
import type { KubectlResult } from '../e2e/harness/kubectl.js';

export interface ApiServerProc {
  host: string;
  url: string;
  dataDir: string;
  logFile: string;
  kubeconfig: string;
  proc: LaunchedProcess;
}

export interface TrioOptions {
  root: string;
  hosts: readonly string[];
  etcdEndpoint: string;
  /** Extra serving-certificate names: the balancer's address or the VIP. */
  tlsSans: readonly string[];
  /** Bind 0.0.0.0 on this fixed port (a server alone in its network namespace); default: bind the host, port 0. */
  fixedPort?: number;
  /** A command that execs node in server i's network namespace. */
  wrapper?: (i: number) => string[];
}

/** Starts the servers one after the other: the first makes the CA, the others get a copy first. */
export async function startApiServerTrio(o: TrioOptions): Promise<ApiServerProc[]> {
  const out: ApiServerProc[] = [];
  for (const [i, host] of o.hosts.entries()) {
    const dataDir = join(o.root, `s${i + 1}`);
    mkdirSync(join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
    if (i > 0) {
      const first = out[0]!.dataDir;
      for (const f of ['tls/ca.crt', 'tls/ca.key', 'token']) copyFileSync(join(first, f), join(dataDir, f));
    }
    const logFile = join(o.root, `s${i + 1}.log`);
    const args = ['apiserver', '--data-dir', dataDir, '--etcd-endpoints', o.etcdEndpoint, '--log-format', 'json',
      ...(o.fixedPort === undefined ? ['--bind-address', host, '--https-port', '0'] : ['--bind-address', '0.0.0.0', '--node-ip', host, '--https-port', String(o.fixedPort)]),
      ...o.tlsSans.flatMap((s) => ['--tls-san', s])];
    const proc = await launchCli({
      entry: cliMain, args, dataDir, logFile, tracker, readyTimeoutMs: 60_000,
      ...(o.wrapper ? { wrapper: o.wrapper(i) } : { extraReady: (r) => probeReady(r.apiServer!.url) }),
    });
    const api = proc.ready.apiServer!;
    out.push({ host, url: `https://${host}:${api.port}`, dataDir, logFile, kubeconfig: api.kubeconfig, proc });
  }
  return out;
}

/** A copy of `from` (an admin kubeconfig) whose server is `serverUrl`. */
export function kubeconfigFor(from: string, serverUrl: string, path: string): string {
  const c = loadKubeconfig(from);
  writeFileSync(path, renderKubeconfig({ serverUrl, caCertPem: c.caPem!, clientCertPem: c.certPem!, clientKeyPem: c.keyPem! }), { mode: 0o600 });
  return path;
}

export interface WriteLoopResult {
  acked: string[];
  failures: { name: string; error: string }[];
}

/**
 * Creates ConfigMaps `${prefix}-N` one after the other with kubectl until `done(result)` says
 * so (checked after each attempt) or `maxAttempts` ran out; `onAttempt` runs after each one.
 */
export async function kubectlWriteLoop(
  kubectl: (args: string[]) => Promise<KubectlResult>, prefix: string,
  opts: { maxAttempts: number; done: (r: WriteLoopResult) => boolean; onAttempt?: (r: WriteLoopResult) => Promise<void> | void },
): Promise<WriteLoopResult> {
  const r: WriteLoopResult = { acked: [], failures: [] };
  for (let n = 0; n < opts.maxAttempts && !opts.done(r); n++) {
    const name = `${prefix}-${n}`;
    const res = await kubectl(['create', 'configmap', name, `--from-literal=n=${n}`, '--request-timeout=15s']);
    if (res.code === 0 && res.stdout.includes(name)) r.acked.push(name);
    else r.failures.push({ name, error: `exit ${res.code}${res.timedOut ? ' (timed out)' : ''}: ${res.stderr.trim().split('\n').pop() ?? ''}` });
    await opts.onAttempt?.(r);
  }
  return r;
}

/** The ConfigMap names in `default`, through `kubectl get`. */
export async function configMapNames(kubectl: (args: string[]) => Promise<KubectlResult>): Promise<Set<string>> {
  const res = await kubectl(['get', 'configmaps', '-o', 'name', '--request-timeout=15s']);
  if (res.code !== 0) throw new Error(`kubectl get configmaps failed: ${res.stderr}`);
  return new Set(res.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^configmap\//, '')));
}

export interface FailoverOutcome extends WriteLoopResult {
  /** Acknowledged writes before the kill. */
  ackedBeforeKill: number;
  /** Failed attempts after the kill. */
  failuresAfterKill: number;
  /** The names kubectl lists afterwards. */
  present: Set<string>;
}

/**
 * The steady-write scenario: kubectl creates ConfigMaps through the balancer; after `before`
 * acknowledged writes `victim` is killed with SIGKILL (`kill()`); the loop goes on until `after`
 * more are acknowledged. Then every acknowledged name is listed through the balancer.
 */
export async function killDuringWrites(
  kubectl: (args: string[]) => Promise<KubectlResult>, prefix: string, kill: () => Promise<void> | void,
  opts: { before?: number; after?: number; maxAttempts?: number } = {},
): Promise<FailoverOutcome> {
  const before = opts.before ?? 5;
  const after = opts.after ?? 10;
  let killedAt: number | undefined;
  let failuresAtKill = 0;
  const r = await kubectlWriteLoop(kubectl, prefix, {
    maxAttempts: opts.maxAttempts ?? before + after + 30,
    done: (x) => killedAt !== undefined && x.acked.length >= killedAt + after,
    onAttempt: async (x) => {
      if (killedAt === undefined && x.acked.length >= before) {
        killedAt = x.acked.length;
        failuresAtKill = x.failures.length;
        await kill();
      }
    },
  });
  return {
    ...r, ackedBeforeKill: killedAt ?? r.acked.length, failuresAfterKill: r.failures.length - failuresAtKill,
    present: await configMapNames(kubectl),
  };
}
