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
import { existsSync, readFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, closeSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

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

/** Kills every process this harness started that is still running. Call it from `after()`. */
export function killAll(): void {
  for (const child of live) hardKill(child);
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

/** A port nobody listens on right now at `host` (the OS picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr !== null && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

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
  const child = spawn(opts.bin ?? KUBECTL, [...args, `--cache-dir=${cacheDir}`], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
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
}

export function spawnKubectl(kubeconfig: string, scratch: string, args: string[], opts: KubectlOptions = {}): KubectlStream {
  const { env, cacheDir } = kubectlEnv(kubeconfig, scratch, opts.env);
  const child = spawn(opts.bin ?? KUBECTL, [...args, `--cache-dir=${cacheDir}`], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
  let child: ChildProcess | undefined;
  let exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });

  const launch = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    writeFileSync(fd, `\n=== start ${new Date().toISOString()} port ${port}\n`);
    const args = ['--import', 'reflect-metadata', cliMain, 'server', '--data-dir', dataDir, '--bind-address', host, '--https-port', String(port), '--disable-agent', ...(opts.extraArgs ?? [])];
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

  const stop = async (): Promise<ExitInfo> => {
    const c = child;
    if (c === undefined) return { code: null, signal: null };
    if (c.exitCode !== null || c.signalCode !== null) return exited;
    c.kill('SIGTERM');
    const timer = setTimeout(() => hardKill(c), 15_000);
    const info = await exited;
    clearTimeout(timer);
    // Anything the server left in its process group goes too.
    hardKill(c);
    return info;
  };

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
