// Runs `trireme apiserver` or `trireme server` as a child process for a benchmark: fresh data
// dir, loopback address, port 0 (the OS picks; the server's ready file names the port), and
// stops it afterwards. The launching itself is src/launch/cli-process.ts, shared with the e2e
// harness.
// Guarantees: the child leads its own process group and is SIGKILLed (group included) when
// this process exits, whatever the reason; `stop()` first asks politely (SIGTERM, so that a
// `--cpu-prof` profile gets written) and kills after a grace period; start fails with the log
// tail if the server exits early or is not ready (ready file, then `/readyz`) within the timeout.
// Does not: remove the data dir (the caller owns it).
import { probeReady } from '../../src/launch/ready-probe.js';
import { ChildTracker } from '../../src/launch/children.js';
import { launchCli, logTail } from '../../src/launch/cli-process.js';

export { logTail };

export interface ServerOptions {
  /** The compiled CLI entry (`…/src/cli/main.js`). */
  cliMain: string;
  dataDir: string;
  host: string;
  logFile: string;
  /** When set, the server runs with `--cpu-prof` and writes its profile here on exit. */
  cpuProfDir?: string;
  readyTimeoutMs?: number;
  /** The benchmark's children (see `benchTracker`). */
  tracker: ChildTracker;
}

export interface ServerProcess {
  host: string;
  port: number;
  pid: number;
  url: string;
  kubeconfigPath: string;
  /** The local agent's kubelet port (`trireme server` with an agent), else undefined. */
  kubeletPort: number | undefined;
  /** SIGTERM, SIGKILL to the group after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** The benchmark process's children; killed on exit and on SIGINT/SIGTERM/SIGHUP. */
export function benchTracker(): ChildTracker {
  const tracker = new ChildTracker();
  tracker.installExitHooks();
  return tracker;
}

/** Whether `/readyz` answers 200 (the launcher's probe; the CA is pinned later by the benchmark clients). */
export { probeReady };

/** `trireme apiserver` alone: the API server under measurement. */
export function startServer(opts: ServerOptions): Promise<ServerProcess> {
  const prof = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`];
  return startCliServer({ ...opts, subcommand: 'apiserver', nodeArgs: prof, extraArgs: [] });
}

/**
 * Any server subcommand of the CLI as a child (`apiserver`, or `server` with its agent):
 * `extraArgs` follow the data dir, bind address and port (0) this function passes.
 */
export async function startCliServer(opts: ServerOptions & { subcommand: 'apiserver' | 'server'; extraArgs: string[]; nodeArgs?: string[] }): Promise<ServerProcess> {
  const p = await launchCli({
    entry: opts.cliMain, tracker: opts.tracker, dataDir: opts.dataDir, logFile: opts.logFile, nodeArgs: opts.nodeArgs,
    args: [opts.subcommand, '--data-dir', opts.dataDir, '--bind-address', opts.host, '--https-port', '0', ...opts.extraArgs],
    readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    extraReady: async (r) => r.apiServer !== undefined && (await probeReady(r.apiServer.url)),
  });
  const api = p.ready.apiServer;
  if (api === undefined) throw new Error(`${opts.subcommand} wrote a ready file without an API server`);
  return {
    host: opts.host,
    port: api.port,
    pid: p.pid,
    url: api.url,
    kubeconfigPath: api.kubeconfig,
    kubeletPort: p.ready.kubelet?.port,
    async stop(graceMs = 15_000) {
      await p.stop(graceMs);
    },
  };
}
