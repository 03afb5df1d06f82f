// E2E harness: a real `trireme agent` joining a harness server as a further node.
//
// Guarantees: the agent binds kubelet port 0 on its first start (its ready file names the port)
// and the same port on later starts; it is ready when its kubelet `/healthz` answers and its
// Node is Ready; it is tracked (tracking.ts), and the containers it leaves are swept by
// `dispose()` and `killAll()`.
// Does not: stop its containers when it stops (the shims are detached, by design): a test that
// runs workloads deletes them and waits for the pods to go before it stops its agents.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExitInfo } from '../../../src/launch/children.js';
import { launchCli, type LaunchedProcess } from '../../../src/launch/cli-process.js';
import { killContainers } from './containers.js';
import { agentFlagArgs, portRangeFor, type AgentFlags } from './node-flags.js';
import { cliMain, repoRoot } from './paths.js';
import type { ServerHandle } from './server.js';
import { trackAgentDataDir, tracker } from './tracking.js';
import { waitFor } from './wait.js';

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
  /** Further `trireme agent` flags (e.g. timings). */
  extraArgs?: string[];
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
  /** The agent process's pid while one was started (for kill -9, SIGSTOP/SIGCONT). */
  pid(): number | undefined;
  /** Sends a signal to the agent process alone (e.g. SIGSTOP / SIGCONT); its containers are not touched. */
  signal(sig: NodeJS.Signals): void;
  /**
   * kill -9 of the node: SIGKILL to the agent (its process group) and to every container process
   * and shim it runs; resolves once the agent has exited. Returns how many containers and shims died.
   */
  killWithPods(): Promise<number>;
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
  trackAgentDataDir(dataDir);
  const logFile = join(root, 'agent.log');
  const portRange = opts.portRange ?? portRangeFor(opts.host);
  let kubeletPort = opts.kubeletPort ?? 0;
  const token = readFileSync(join(server.dataDir, 'token'), 'utf8').trim();
  let proc: LaunchedProcess | undefined;

  const start = async (): Promise<void> => {
    proc = await launchCli({
      entry: cliMain, cwd: repoRoot, tracker, dataDir, logFile,
      args: ['agent', '--server', server.url, '--token', token, '--data-dir', dataDir, ...agentFlagArgs(opts.host, { ...opts, portRange }, kubeletPort), ...(opts.extraArgs ?? [])],
      readyTimeoutMs: 30_000,
      extraReady: async (r) => r.kubelet !== undefined && (await kubeletHealthy(opts.host, r.kubelet.port)),
    });
    kubeletPort = proc.ready.kubelet?.port ?? kubeletPort;
    try {
      await waitNodeReady(server, opts.nodeName);
    } catch (e) {
      proc.kill();
      throw new Error(`${(e as Error).message}\n--- agent log (${logFile}) ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n')}`);
    }
  };

  const stop = async (): Promise<ExitInfo> => (proc === undefined ? { code: null, signal: null } : proc.stop());

  await start();
  return {
    nodeName: opts.nodeName,
    host: opts.host,
    get kubeletPort() {
      return kubeletPort;
    },
    portRange,
    dataDir,
    logFile,
    running: () => proc?.running() === true,
    pid: () => proc?.pid,
    signal(sig) {
      if (proc?.running() === true) process.kill(proc.pid, sig);
    },
    async killWithPods() {
      if (proc === undefined) return 0;
      proc.kill();
      const killed = killContainers(dataDir);
      await proc.exited;
      return killed;
    },
    stop,
    start,
    async dispose() {
      await stop();
      killContainers(dataDir);
      if (process.env.E2E_KEEP === undefined) rmSync(root, { recursive: true, force: true });
    },
  };
}
