// E2E harness: a real `trireme server` as a child process on a loopback address, through the
// launcher the benchmarks use too (src/launch/cli-process.ts).
//
// Guarantees: the server binds port 0 and its ready file names the port (no free-port race);
// it is ready when that file names its pid and `GET /readyz` answers 200; a restart reuses the
// data dir, address and port (and the local agent's kubelet port), so kubeconfigs and joined
// agents stay valid; output goes to `<tmp>/server.log`, and `guard()` appends its tail to any
// failure; the process is tracked (tracking.ts) and dies with the test process.
// Does not: isolate tests sharing one server, or keep the port reserved while stopped.
import { probeReady } from '../../../src/launch/ready-probe.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExitInfo } from '../../../src/launch/children.js';
import { launchCli, logTail, type LaunchedProcess } from '../../../src/launch/cli-process.js';
import { killContainers } from './containers.js';
import { runKubectl, spawnKubectl, type KubectlOptions, type KubectlResult, type KubectlStream } from './kubectl.js';
import { agentFlagArgs, type AgentFlags } from './node-flags.js';
import { cliMain, repoRoot } from './paths.js';
import { rawRequest, readCredentials, type Credentials, type RawRequest, type RawResponse } from './raw-http.js';
import { trackAgentDataDir, tracker } from './tracking.js';

export type { ExitInfo };

export interface StartOptions {
  /** Loopback address to bind (default 127.0.0.1). Give each test file its own. */
  host?: string;
  /**
   * Run the server's local node agent (default: `--disable-agent`). The agent uses the server's
   * data dir and address as node IP, kubelet port 0 (the OS picks) and `portRangeFor(host)` by
   * default.
   */
  agent?: AgentFlags;
  /** Deploy the cluster DNS add-on (default: `--disable-dns`, so other suites see only their own pods). */
  dns?: boolean;
  extraArgs?: string[];
  readyTimeoutMs?: number;
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

/** Readiness only: the CA may not be known to the caller yet, so do not verify here. */
export { probeReady };

/** Starts `trireme server` on a fresh data dir and waits until it is ready. */
export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  const root = mkdtempSync(join(tmpdir(), 'trireme-e2e-'));
  const dataDir = join(root, 'data');
  const scratch = join(root, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const logFile = join(root, 'server.log');
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  if (opts.agent !== undefined) trackAgentDataDir(dataDir);
  // Port 0 on the first start; the ports it bound on every later one.
  let port = 0;
  let kubeletPort = opts.agent?.kubeletPort ?? 0;
  let proc: LaunchedProcess | undefined;

  const launch = async (): Promise<void> => {
    const agentArgs = opts.agent === undefined ? ['--disable-agent'] : agentFlagArgs(host, opts.agent, kubeletPort);
    if (opts.dns !== true) agentArgs.push('--disable-dns');
    proc = await launchCli({
      entry: cliMain, cwd: repoRoot, tracker, dataDir, logFile,
      args: ['server', '--data-dir', dataDir, '--bind-address', host, '--https-port', String(port), ...agentArgs, ...(opts.extraArgs ?? [])],
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
      extraReady: async (r) => r.apiServer !== undefined && (await probeReady(r.apiServer.url)),
    });
    port = proc.ready.apiServer?.port ?? port;
    kubeletPort = proc.ready.kubelet?.port ?? kubeletPort;
  };

  const stop = async (): Promise<ExitInfo> => (proc === undefined ? { code: null, signal: null } : proc.stop());

  await launch();

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
        const extra = `\n--- server log tail (${logFile}) ---\n${logTail(logFile, 40)}`;
        err.message += extra;
        // Reporters print the stack, which captured the message when the error was made.
        if (err.stack !== undefined) err.stack += extra;
        throw err;
      }
    },
  };
  return handle;
}
