// End-to-end harness: starts a real `trireme server` as a child process on a free loopback
// port, waits until `/readyz` answers, and runs the real `kubectl` binaries against it.
//
// Guarantees:
// - every process it starts (servers, kubectl runs, `kubectl get -w` watchers) is tracked and
//   killed by `killAll()` and, as a last resort, on process exit — even when a test fails;
// - each kubectl run gets a fresh HOME and `--cache-dir`, so no discovery cache leaks between
//   runs (a changed server never looks unchanged);
// - server stdout/stderr go to `<tmp>/server.log`; `guard()` appends its tail to any failure.
// Does not guarantee: that the port found free is still free when the server binds it (a
// small race, retried once), nor any isolation between tests sharing one server.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, closeSync, chmodSync } from 'node:fs';
import { freePort } from '../helpers/net.js';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Pod } from 'kubernetes-types/core/v1.js';

// ---------------------------------------------------------------------------------------------
// Locations

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root: the nearest ancestor holding the trireme package.json. */
export const repoRoot: string = (() => {
  for (let dir = here; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'trireme') return dir;
    if (dirname(dir) === dir) throw new Error(`no trireme package.json above ${here}`);
  }
})();

/** Fixture files live in the source tree (tsc does not copy them into the build). */
export function fixture(name: string): string {
  return join(repoRoot, 'test', 'e2e', 'fixtures', name);
}

/**
 * A token unique to this test process. Fixtures write `RUN_ID` where it goes (e.g. in a command
 * line marker), so that tests counting processes by marker never see another run's processes.
 */
export const runId: string = `${process.pid}x${Math.random().toString(36).slice(2, 8)}`;

/** A fixture's text with every `RUN_ID` replaced by `runId`. */
export function fixtureText(name: string): string {
  return readFileSync(fixture(name), 'utf8').replaceAll('RUN_ID', runId);
}

/**
 * The server launcher: `bin/trireme`, which runs `dist/src/cli/main.js` — so build `dist/`
 * (`npx tsc -p tsconfig.json`) before running these tests, whichever dir they were compiled to.
 * `TRIREME_E2E_MAIN` names another compiled CLI entry instead.
 */
export const cliMain: string = process.env.TRIREME_E2E_MAIN ?? join(repoRoot, 'bin', 'trireme');

export const KUBECTL = '/usr/bin/kubectl';
export const kubectlVersioned = (minor: number): string => `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;

// ---------------------------------------------------------------------------------------------
// Process tracking: everything we start dies with us.

const live = new Set<ChildProcess>();

function track(child: ChildProcess, group: boolean): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A detached child leads its own process group: kill the whole group so grandchildren die too.
  (child as ChildProcess & { triremeGroup?: boolean }).triremeGroup = group;
}

function hardKill(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const group = (child as ChildProcess & { triremeGroup?: boolean }).triremeGroup === true;
  try {
    process.kill(group ? -child.pid : child.pid, 'SIGKILL');
  } catch {
    // Already gone between the check and the kill: nothing left to do.
  }
}

/**
 * SIGTERM, SIGKILL after 15 s, and once it exited, SIGKILL to whatever it left in its process
 * group. `exited` resolves with the child's exit.
 */
async function stopChild(c: ChildProcess | undefined, exited: Promise<ExitInfo>): Promise<ExitInfo> {
  if (c === undefined) return { code: null, signal: null };
  if (c.exitCode !== null || c.signalCode !== null) return exited;
  c.kill('SIGTERM');
  const timer = setTimeout(() => hardKill(c), 15_000);
  const info = await exited;
  clearTimeout(timer);
  hardKill(c);
  return info;
}

/** Data dirs of the node agents this harness started (the server's own one included). */
const agentDataDirs = new Set<string>();

/**
 * Kills every process this harness started that is still running, and every container process
 * (and shim) the agents it started left behind. Call it from `after()`, after deleting the
 * workloads (so that a clean test had nothing left to kill).
 */
export function killAll(): void {
  for (const child of live) hardKill(child);
  for (const dir of agentDataDirs) killContainers(dir);
}

process.on('exit', killAll);
// Children run in their own process groups, so a Ctrl-C or a runner's SIGTERM does not reach
// them: kill them, then let the signal take its default course.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig);
  });
}

// ---------------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export { freePort };

/** Polls `fn` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    }
    await sleep(everyMs);
  }
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log file)';
  const all = readFileSync(file, 'utf8').split('\n');
  return all.slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Raw HTTPS with the admin credentials of a kubeconfig

export interface Credentials {
  server: string;
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

interface KubeconfigFile {
  clusters?: { cluster?: Record<string, string> }[];
  users?: { user?: Record<string, string> }[];
}

/** Reads the first cluster and user of a kubeconfig (the admin one the server writes). */
export function readCredentials(kubeconfigPath: string): Credentials {
  const kc = parseYaml(readFileSync(kubeconfigPath, 'utf8')) as KubeconfigFile;
  const cluster = kc.clusters?.[0]?.cluster;
  const user = kc.users?.[0]?.user ?? {};
  if (cluster?.server === undefined) throw new Error(`kubeconfig ${kubeconfigPath} has no cluster server`);
  const b64 = (v: string | undefined): Buffer | undefined => (v === undefined ? undefined : Buffer.from(v, 'base64'));
  const file = (v: string | undefined): Buffer | undefined => (v === undefined ? undefined : readFileSync(v));
  const ca = b64(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  if (ca === undefined) throw new Error('kubeconfig pins no CA');
  return {
    server: cluster.server,
    ca,
    cert: b64(user['client-certificate-data']) ?? file(user['client-certificate']),
    key: b64(user['client-key-data']) ?? file(user['client-key']),
    token: user.token,
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the admin credentials (default true). The CA is always pinned. */
  auth?: boolean;
  timeoutMs?: number;
}

/** One HTTPS request to the API server; resolves with whatever the server answered. */
export function rawRequest(creds: Credentials, path: string, opts: RawRequest = {}): Promise<RawResponse> {
  const url = new URL(path, creds.server);
  const auth = opts.auth !== false;
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (auth && creds.token !== undefined && creds.cert === undefined) headers.Authorization = `Bearer ${creds.token}`;
  if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = httpsRequest(
      url,
      {
        method: opts.method ?? 'GET',
        headers,
        ca: creds.ca,
        cert: auth ? creds.cert : undefined,
        key: auth ? creds.key : undefined,
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          if (!settled) reject(e);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${path} timed out`)));
    // A server may answer (e.g. 413) and close before it has read a large body: the write then
    // fails, but the answer already arrived and is what we want to see.
    req.on('error', (e) => {
      if (!settled) setTimeout(() => (settled ? undefined : reject(e)), 200);
    });
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// kubectl

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface KubectlOptions {
  input?: string;
  /** The kubectl binary (default `/usr/bin/kubectl`, the version dispatcher). */
  bin?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

function kubectlEnv(kubeconfig: string, scratch: string, extra: Record<string, string> | undefined): { env: NodeJS.ProcessEnv; cacheDir: string } {
  const home = mkdtempSync(join(scratch, 'home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    KUBECONFIG: kubeconfig,
    // No colour or pager: output is parsed.
    TERM: 'dumb',
    ...extra,
  };
  return { env, cacheDir: join(home, 'kube-cache') };
}

/** Runs kubectl once to completion (or kills it after the timeout, default 60 s). */
export function runKubectl(kubeconfig: string, scratch: string, args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const { env, cacheDir } = kubectlEnv(kubeconfig, scratch, opts.env);
  const child = spawn(opts.bin ?? KUBECTL, [`--cache-dir=${cacheDir}`, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  track(child, true);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined); // kubectl may exit before reading its input
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      hardKill(child);
    }, opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + String(e), timedOut });
    });
  });
}

/** A long-running kubectl (e.g. `get -w`) whose output a test can wait on. */
export interface KubectlStream {
  output(): string;
  stderr(): string;
  /** Resolves once stdout matches `re`; rejects after `timeoutMs` or if kubectl exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(): void;
  /** Whether kubectl has exited (by itself or killed). */
  exited(): boolean;
}

export function spawnKubectl(kubeconfig: string, scratch: string, args: string[], opts: KubectlOptions = {}): KubectlStream {
  const { env, cacheDir } = kubectlEnv(kubeconfig, scratch, opts.env);
  const child = spawn(opts.bin ?? KUBECTL, [`--cache-dir=${cacheDir}`, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  track(child, true);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return {
    output: () => stdout,
    stderr: () => stderr,
    async waitFor(re, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(stdout);
        if (m !== null) return m[0];
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`kubectl ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${re}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        }
        if (Date.now() > deadline) throw new Error(`kubectl ${args.join(' ')} did not print ${re} within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        await sleep(100);
      }
    },
    kill: () => hardKill(child),
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

/** Describes a kubectl result for assertion messages. */
export function show(r: KubectlResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/** Writes an executable editor script for `kubectl edit` (KUBE_EDITOR) that runs sed on the file. */
export function sedEditor(scratch: string, sedExpr: string): string {
  const path = join(scratch, `editor-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
  const quoted = `'${sedExpr.replaceAll("'", `'\\''`)}'`;
  writeFileSync(path, `#!/bin/sh\nexec sed -i -e ${quoted} "$1"\n`);
  chmodSync(path, 0o755);
  return path;
}

// ---------------------------------------------------------------------------------------------
// The server

export interface StartOptions {
  /** Loopback address to bind (default 127.0.0.1). Give each test file its own. */
  host?: string;
  /**
   * Run the server's local node agent (default: `--disable-agent`). The agent uses the server's
   * data dir and address as node IP, a free kubelet port and `portRangeFor(host)` by default.
   */
  agent?: AgentFlags;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerHandle {
  url: string;
  host: string;
  /** The local agent's node name when started with `agent`, else undefined. */
  nodeName: string | undefined;
  port: number;
  dataDir: string;
  kubeconfig: string;
  /** Scratch space for this server's test (kubectl homes, editor scripts). */
  scratch: string;
  logFile: string;
  creds(): Credentials;
  /** SIGTERM, then SIGKILL after 15 s. Resolves with how the server exited. */
  stop(): Promise<ExitInfo>;
  /** stop() then start again on the same data dir, address and port. */
  restart(): Promise<ExitInfo>;
  /** Stops the server (if running) and removes its temp dir unless E2E_KEEP is set. */
  dispose(): Promise<void>;
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  kubectlStream(args: string[], opts?: KubectlOptions): KubectlStream;
  request(path: string, opts?: RawRequest): Promise<RawResponse>;
  /** Runs `fn`; if it throws, rethrows with the tail of the server log attached. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
}

function probeReady(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Readiness only: the kubeconfig (and thus the CA) may not exist yet, so do not verify here.
    const req = httpsRequest({ host, port, path: '/readyz', method: 'GET', rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Starts `trireme server` on a fresh data dir and waits until it is ready. */
export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  const root = mkdtempSync(join(tmpdir(), 'trireme-e2e-'));
  const dataDir = join(root, 'data');
  const scratch = join(root, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const logFile = join(root, 'server.log');
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  let port = await freePort(host);
  const agentArgs = opts.agent === undefined ? ['--disable-agent'] : await agentFlagArgs(host, opts.agent);
  if (opts.agent !== undefined) agentDataDirs.add(dataDir);
  let child: ChildProcess | undefined;
  let exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });

  const launch = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    writeFileSync(fd, `\n=== start ${new Date().toISOString()} port ${port}\n`);
    const args = ['--import', 'reflect-metadata', cliMain, 'server', '--data-dir', dataDir, '--bind-address', host, '--https-port', String(port), ...agentArgs, ...(opts.extraArgs ?? [])];
    const c = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', fd, fd], detached: true, env: { ...process.env } });
    closeSync(fd);
    track(c, true);
    child = c;
    exited = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
    let dead: ExitInfo | undefined;
    void exited.then((e) => (dead = e));
    await waitFor(
      `server on ${host}:${port} to become ready`,
      async () => {
        if (dead !== undefined) throw new Error(`server exited early (code ${dead.code}, signal ${dead.signal})`);
        return (await probeReady(host, port)) && existsSync(kubeconfig) ? true : undefined;
      },
      opts.readyTimeoutMs ?? 30_000,
      200,
    ).catch((e: unknown) => {
      hardKill(c);
      throw new Error(`${(e as Error).message}\n--- server log (${logFile}) ---\n${tail(logFile, 80)}`);
    });
  };

  const stop = (): Promise<ExitInfo> => stopChild(child, exited);

  try {
    await launch();
  } catch (e) {
    // The free port may have been taken between probing and binding: try once more.
    if (!/exited early/.test((e as Error).message)) throw e;
    port = await freePort(host);
    await launch();
  }

  const handle: ServerHandle = {
    get url() {
      return `https://${host}:${port}`;
    },
    host,
    nodeName: opts.agent === undefined ? undefined : opts.agent.nodeName,
    get port() {
      return port;
    },
    dataDir,
    kubeconfig,
    scratch,
    logFile,
    creds: () => readCredentials(kubeconfig),
    stop,
    async restart() {
      const info = await stop();
      await launch();
      return info;
    },
    async dispose() {
      await stop();
      if (opts.agent !== undefined) killContainers(dataDir);
      if (process.env.E2E_KEEP === undefined) rmSync(root, { recursive: true, force: true });
    },
    kubectl: (args, o) => runKubectl(kubeconfig, scratch, args, o),
    kubectlStream: (args, o) => spawnKubectl(kubeconfig, scratch, args, o),
    request: (path, o) => rawRequest(readCredentials(kubeconfig), path, o),
    async guard(fn) {
      try {
        return await fn();
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        const extra = `\n--- server log tail (${logFile}) ---\n${tail(logFile, 40)}`;
        err.message += extra;
        // Reporters print the stack, which captured the message when the error was made.
        if (err.stack !== undefined) err.stack += extra;
        throw err;
      }
    },
  };
  return handle;
}

// ---------------------------------------------------------------------------------------------
// Node agents and the processes they run
//
// Agents leave their containers running when they stop (the shims are detached, by design), so
// a test that runs workloads must delete them and wait for the pods to go before it stops its
// agents, and call `killContainers(dataDir)` for every agent data dir in `after()` as the last
// resort. `killAll()` alone does not reach the shims: they are in their own sessions.

export interface AgentFlags {
  nodeName: string;
  /** Kubelet API port on the node IP (default: a free one). */
  kubeletPort?: number;
  /** Host ports handed to containers (default `portRangeFor(node IP)`). */
  portRange?: [number, number];
}

/**
 * A container port range of 50 ports derived from the last octet of a loopback address
 * (127.0.0.40 → 22000-22049), so agents of test files on distinct addresses never share ports.
 * It lies below Linux's ephemeral range, so outgoing connections do not take these ports.
 */
export function portRangeFor(host: string): [number, number] {
  const octet = Number(host.split('.').at(-1));
  if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new Error(`not an IPv4 address: ${host}`);
  const from = 20_000 + octet * 50;
  return [from, from + 49];
}

async function agentFlagArgs(nodeIp: string, a: AgentFlags): Promise<string[]> {
  const [from, to] = a.portRange ?? portRangeFor(nodeIp);
  const kubeletPort = a.kubeletPort ?? (await freePort(nodeIp));
  return ['--node-name', a.nodeName, '--node-ip', nodeIp, '--kubelet-port', String(kubeletPort), '--port-range', `${from}-${to}`];
}

function kubeletHealthy(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host, port, path: '/healthz', rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

interface NodeJson {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Waits until the Node object exists and its Ready condition is True. */
export async function waitNodeReady(server: ServerHandle, nodeName: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`node ${nodeName} Ready`, async () => {
    const r = await server.request(`/api/v1/nodes/${nodeName}`);
    if (r.status !== 200) return undefined;
    const node = JSON.parse(r.text) as NodeJson;
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true ? true : undefined;
  }, timeoutMs, 200);
}

export interface AgentOptions extends AgentFlags {
  /** The node IP: a loopback address of its own (e.g. 127.0.0.41). */
  host: string;
}

export interface AgentHandle {
  nodeName: string;
  host: string;
  kubeletPort: number;
  portRange: [number, number];
  /** `--data-dir` of the agent: `agent/pods/...` holds its containers, `manifests/` its static pods. */
  dataDir: string;
  logFile: string;
  /** Whether the agent process is running. */
  running(): boolean;
  /** SIGTERM, SIGKILL after 15 s. Containers keep running (by design). */
  stop(): Promise<ExitInfo>;
  /** Starts the agent again on the same data dir, IP and ports (no token needed any more). */
  start(): Promise<void>;
  /** Stops the agent, kills whatever containers it left behind, removes its temp dir. */
  dispose(): Promise<void>;
}

/**
 * Starts `trireme agent` joining `server` with its token as a second node, and waits until its
 * kubelet API answers and its Node is Ready. Output goes to `<tmp>/agent.log`.
 */
export async function startAgent(server: ServerHandle, opts: AgentOptions): Promise<AgentHandle> {
  const root = mkdtempSync(join(tmpdir(), `trireme-e2e-agent-${opts.nodeName}-`));
  const dataDir = join(root, 'data');
  agentDataDirs.add(dataDir);
  const logFile = join(root, 'agent.log');
  const kubeletPort = opts.kubeletPort ?? (await freePort(opts.host));
  const portRange = opts.portRange ?? portRangeFor(opts.host);
  const token = readFileSync(join(server.dataDir, 'token'), 'utf8').trim();
  let child: ChildProcess | undefined;
  let exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });

  const start = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    writeFileSync(fd, `\n=== start ${new Date().toISOString()}\n`);
    const args = [
      '--import', 'reflect-metadata', cliMain, 'agent', '--server', server.url, '--token', token, '--data-dir', dataDir,
      '--node-ip', opts.host, '--node-name', opts.nodeName, '--kubelet-port', String(kubeletPort), '--port-range', `${portRange[0]}-${portRange[1]}`,
    ];
    const c = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', fd, fd], detached: true, env: { ...process.env } });
    closeSync(fd);
    track(c, true);
    child = c;
    exited = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
    let dead: ExitInfo | undefined;
    void exited.then((e) => (dead = e));
    try {
      await waitFor(`agent ${opts.nodeName} kubelet API on ${opts.host}:${kubeletPort}`, async () => {
        if (dead !== undefined) throw new Error(`agent exited early (code ${dead.code}, signal ${dead.signal})`);
        return (await kubeletHealthy(opts.host, kubeletPort)) ? true : undefined;
      }, 30_000, 200);
      await waitNodeReady(server, opts.nodeName);
    } catch (e) {
      hardKill(c);
      throw new Error(`${(e as Error).message}\n--- agent log (${logFile}) ---\n${tail(logFile, 60)}`);
    }
  };

  const stop = (): Promise<ExitInfo> => stopChild(child, exited);

  await start();
  return {
    nodeName: opts.nodeName,
    host: opts.host,
    kubeletPort,
    portRange,
    dataDir,
    logFile,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    stop,
    start,
    async dispose() {
      await stop();
      killContainers(dataDir);
      if (process.env.E2E_KEEP === undefined) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** One container instance as the agent's process runtime recorded it (docs/agent.md). */
export interface ContainerInstance {
  podUid: string;
  container: string;
  attempt: number;
  dir: string;
  shimPid: number;
  pid: number;
  pgid: number;
  /** `/proc/<pid>/stat` start time when it started, to tell a recycled pid apart. */
  procStart: string;
  /** exit.json exists: the instance has ended. */
  exited: boolean;
}

interface StateJson {
  shimPid?: number;
  pid?: number;
  pgid?: number;
  procStart?: string;
}

function readDirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every container instance (with a state.json) under an agent data dir. */
export function containerInstances(agentDataDir: string): ContainerInstance[] {
  const out: ContainerInstance[] = [];
  const pods = join(agentDataDir, 'agent', 'pods');
  for (const podUid of readDirSafe(pods)) {
    for (const container of readDirSafe(join(pods, podUid, 'containers'))) {
      for (const attempt of readDirSafe(join(pods, podUid, 'containers', container))) {
        const dir = join(pods, podUid, 'containers', container, attempt);
        let st: StateJson;
        try {
          st = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StateJson;
        } catch {
          continue; // not started yet, or written right now
        }
        if (st.pid === undefined || st.pgid === undefined) continue;
        out.push({
          podUid, container, attempt: Number(attempt), dir, shimPid: st.shimPid ?? 0, pid: st.pid, pgid: st.pgid,
          procStart: st.procStart ?? '', exited: existsSync(join(dir, 'exit.json')),
        });
      }
    }
  }
  return out;
}

interface ProcInfo {
  pid: number;
  pgid: number;
  startTime: string;
  cmdline: string;
}

/** A snapshot of the processes on this machine from /proc (pid, process group, start time, argv). */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readDirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      // rest[0] is field 3 (state): pgrp is field 5, starttime field 22.
      if (rest[0] === 'Z') continue; // a zombie has exited; it only waits to be reaped
      out.push({ pid: Number(name), pgid: Number(rest[2]), startTime: rest[19] ?? '', cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/** Pids of live processes whose command line contains `marker` (like `pgrep -f`, never us). */
export function processesWith(marker: string): number[] {
  return processes().filter((p) => p.pid !== process.pid && p.cmdline.includes(marker)).map((p) => p.pid);
}

/** Pids of live processes in any of the given process groups. */
export function processesInGroups(pgids: Iterable<number>): number[] {
  const set = new Set(pgids);
  return processes().filter((p) => set.has(p.pgid)).map((p) => p.pid);
}

/**
 * Last resort for `after()`: SIGKILLs every container process group and shim recorded under an
 * agent data dir that is still alive — a group only if its leader's start time matches the
 * record, a shim only if its command line names the instance dir, so recycled pids are spared.
 * Returns how many it killed (0 after a clean test).
 */
export function killContainers(agentDataDir: string): number {
  const procs = processes();
  let killed = 0;
  for (const inst of containerInstances(agentDataDir)) {
    const groupAlive = procs.some((p) => p.pgid === inst.pgid);
    const leader = procs.find((p) => p.pid === inst.pgid);
    // The leader may be gone while its children live on: then trust the group if no one else
    // could have taken the pgid (a new group's id is its leader's pid, which is not running).
    if (groupAlive && (leader === undefined || leader.startTime === inst.procStart || inst.procStart === '')) {
      try {
        process.kill(-inst.pgid, 'SIGKILL');
        killed++;
      } catch {
        // gone meanwhile
      }
    }
    const shim = procs.find((p) => p.pid === inst.shimPid);
    if (shim !== undefined && shim.cmdline.includes(inst.dir)) {
      try {
        process.kill(inst.shimPid, 'SIGKILL');
        killed++;
      } catch {
        // gone meanwhile
      }
    }
  }
  return killed;
}

/**
 * Deletes the workloads of `namespace` (Deployments, ReplicaSets, DaemonSets, StatefulSets,
 * Jobs, Pods) and waits until no pod is left, so the agents stop their containers. Best effort:
 * returns what is left instead of throwing (call it from `after()`).
 */
export async function deleteWorkloads(server: ServerHandle, namespace = 'default', timeoutMs = 30_000): Promise<string[]> {
  await server.kubectl(['delete', 'deployments,replicasets,daemonsets,pods', '--all', '-n', namespace, '--wait=false'], { timeoutMs: 20_000 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await server.request(`/api/v1/namespaces/${namespace}/pods`).catch(() => undefined);
    const names = r?.status === 200 ? (JSON.parse(r.text) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name) : ['(server unreachable)'];
    if (names.length === 0 || Date.now() > deadline) return names;
    await sleep(300);
  }
}

/** The pods of a namespace (optionally by label selector), straight from the API. */
export async function listPods(server: ServerHandle, namespace = 'default', labelSelector?: string): Promise<Pod[]> {
  const q = labelSelector === undefined ? '' : `?labelSelector=${encodeURIComponent(labelSelector)}`;
  const r = await server.request(`/api/v1/namespaces/${namespace}/pods${q}`);
  if (r.status !== 200) throw new Error(`list pods: ${r.status} ${r.text}`);
  return (JSON.parse(r.text) as { items: Pod[] }).items;
}

/** Ready=True and not terminating: what a Service would send traffic to. */
export function podReady(p: Pod): boolean {
  return p.metadata?.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}
