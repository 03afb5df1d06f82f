// Starts a Trireme subcommand (`trireme server`, `apiserver`, `agent`, or any entry that writes
// a ready file) as a child process and waits until it is ready: shared by the e2e harness and the
// benchmarks, so both start servers the same way.
//
// Guarantees: the child runs `node [nodeArgs] --import reflect-metadata <entry> <args>` in its
// own process group with stdout and stderr appended to `logFile`, tracked by the caller's
// ChildTracker; it is ready when `<dataDir>/ready.json` names its pid (src/cli/ready-file.ts),
// and `extraReady` (if given) holds; ports are whatever the child bound, so callers pass port 0
// and learn the port from the ready file (no free-port race). Start fails with the log tail if
// the child exits early or is not ready in time (the child is then killed, group included).
// Does not: remove the data dir, retry, or interpret the child's output.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { TriremeError } from '../errors.js';
import { readReadyFile, readyFilePath, type ReadyInfo } from '../cli/ready-file.js';
import { pollUntil } from '../util/poll.js';
import { exitOf, hardKill, hasExited, stopChild, type ChildTracker, type ExitInfo } from './children.js';

export interface LaunchOptions {
  /** The script node runs: `bin/trireme`, `dist/src/cli/main.js`, or another ready-file writer. */
  entry: string;
  /** Arguments after the entry (the subcommand and its flags). */
  args: string[];
  /** Where the child writes `ready.json` (its `--data-dir`). */
  dataDir: string;
  logFile: string;
  tracker: ChildTracker;
  /** Node options before the entry, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /**
   * A command that execs node, e.g. `['ip', 'netns', 'exec', 'ns1']` to run it in a network
   * namespace: it must exec (keep the pid), so the ready file still names the child's pid.
   */
  wrapper?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  /** A further readiness condition checked once the ready file is there (e.g. a health probe). */
  extraReady?: (ready: ReadyInfo) => Promise<boolean>;
  /** A line written to the log before the child starts (default: the start time and args). */
  banner?: string;
}

export interface LaunchedProcess {
  child: ChildProcess;
  pid: number;
  ready: ReadyInfo;
  exited: Promise<ExitInfo>;
  running(): boolean;
  /** SIGTERM, SIGKILL to the group after `graceMs` (default 15 s). */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL to the group now. */
  kill(): void;
}

/** The last `lines` lines of a log file (for error messages). */
export function logTail(file: string, lines = 40): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log file)';
}

export async function launchCli(opts: LaunchOptions): Promise<LaunchedProcess> {
  // A ready file left by an earlier run on this data dir must not be mistaken for ours.
  rmSync(readyFilePath(opts.dataDir), { force: true });
  const fd = openSync(opts.logFile, 'a');
  writeFileSync(fd, `\n=== start ${new Date().toISOString()}${opts.banner === undefined ? ` ${opts.args.join(' ')}` : ` ${opts.banner}`}\n`);
  const argv = [...(opts.nodeArgs ?? []), '--import', 'reflect-metadata', opts.entry, ...opts.args];
  let child: ChildProcess;
  try {
    const [cmd, ...pre] = [...(opts.wrapper ?? []), process.execPath];
    child = spawn(cmd!, [...pre, ...argv], { cwd: opts.cwd, stdio: ['ignore', fd, fd], detached: true, env: opts.env ?? process.env });
  } finally {
    closeSync(fd);
  }
  opts.tracker.track(child, true);
  const pid = child.pid;
  if (pid === undefined) throw new TriremeError('Internal', `could not start ${opts.entry} ${opts.args[0] ?? ''}`);
  const exited = exitOf(child);
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  let outcome: { ready: ReadyInfo } | { exited: true };
  try {
    // An exit ends the wait at once (as a value: pollUntil retries on errors).
    outcome = await pollUntil(`${opts.args[0] ?? opts.entry} (pid ${pid}) to become ready`, async () => {
      if (hasExited(child)) return { exited: true as const };
      const info = readReadyFile(opts.dataDir);
      if (info?.pid !== pid) return undefined;
      return opts.extraReady === undefined || (await opts.extraReady(info)) ? { ready: info } : undefined;
    }, { timeoutMs, everyMs: 100 });
  } catch (e) {
    hardKill(child, true);
    throw new TriremeError('Timeout', `${(e as Error).message}\n--- log (${opts.logFile}) ---\n${logTail(opts.logFile)}`, { cause: e });
  }
  if ('exited' in outcome) {
    hardKill(child, true);
    throw new TriremeError('Internal', `${opts.args[0] ?? opts.entry} exited early (code ${child.exitCode}, signal ${child.signalCode})\n--- log (${opts.logFile}) ---\n${logTail(opts.logFile)}`);
  }
  const ready = outcome.ready;
  return {
    child, pid, ready, exited,
    running: () => !hasExited(child),
    stop: (graceMs) => stopChild(child, true, graceMs),
    kill: () => hardKill(child, true),
  };
}
