// Runs `trireme server` as a child process for a benchmark: fresh data dir, loopback address,
// free port, wait for `/readyz` and the admin kubeconfig, and stop it afterwards.
// Guarantees: the child leads its own process group and is SIGKILLed (group included) when
// this process exits, whatever the reason; `stop()` first asks politely (SIGTERM, so that a
// `--cpu-prof` profile gets written) and kills after a grace period; start fails with the log
// tail if the server exits early or is not ready within the timeout.
// Does not: remove the data dir (the caller owns it), or pick a port that is guaranteed to
// stay free between probing and binding.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface ServerOptions {
  /** The compiled CLI entry (`…/src/cli/main.js`). */
  cliMain: string;
  dataDir: string;
  host: string;
  logFile: string;
  /** When set, the server runs with `--cpu-prof` and writes its profile here on exit. */
  cpuProfDir?: string;
  readyTimeoutMs?: number;
}

export interface ServerProcess {
  host: string;
  port: number;
  pid: number;
  kubeconfigPath: string;
  /** SIGTERM, SIGKILL to the group after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    // Gone between the check and the kill: nothing left to do.
  }
}

process.on('exit', () => {
  for (const c of live) killGroup(c);
});
// Interrupted runs must not leave a server behind either (signals skip the 'exit' hook).
const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
for (const [sig, code] of Object.entries(SIGNALS)) {
  process.once(sig, () => {
    for (const c of live) killGroup(c);
    process.exit(code);
  });
}

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

function probeReady(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Readiness only; the CA is pinned later by the benchmark clients.
    const req = request({ host, port, path: '/readyz', rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function logTail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

/** `trireme apiserver` alone: the API server under measurement. */
export function startServer(opts: ServerOptions): Promise<ServerProcess> {
  const prof = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`];
  return startCliServer({ ...opts, subcommand: 'apiserver', nodeArgs: prof, extraArgs: [] });
}

/**
 * Any server subcommand of the CLI as a child (`apiserver`, or `server` with its agent):
 * `extraArgs` follow the data dir, bind address and port this function chooses.
 */
export async function startCliServer(opts: ServerOptions & { subcommand: 'apiserver' | 'server'; extraArgs: string[]; nodeArgs?: string[] }): Promise<ServerProcess> {
  const port = await freePort(opts.host);
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig.yaml');
  const args = [...(opts.nodeArgs ?? []), '--import', 'reflect-metadata', opts.cliMain, opts.subcommand, '--data-dir', opts.dataDir,
    '--bind-address', opts.host, '--https-port', String(port), ...opts.extraArgs];
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], detached: true, env: process.env });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    live.delete(child);
    resolve();
  }));
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the server process');

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited early (${child.exitCode ?? child.signalCode}); log tail:\n${logTail(opts.logFile)}`);
    }
    if (existsSync(kubeconfigPath) && (await probeReady(opts.host, port))) break;
    if (Date.now() > deadline) {
      killGroup(child);
      throw new Error(`server not ready within ${opts.readyTimeoutMs ?? 60_000} ms; log tail:\n${logTail(opts.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    host: opts.host,
    port,
    pid,
    kubeconfigPath,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => killGroup(child), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
