// Running a command "in" a container: same environment and working directory, its own process
// group so that a timeout kills everything it started. Used by exec probes (through
// ProbeContext.exec) and by preStop hooks.
// Guarantees: resolves once the process has exited (never rejects); on timeout the whole group
// gets SIGKILL and `timedOut` is true; output (stdout and stderr interleaved) is capped.
// Does not: isolate the process in any way (there is no container boundary in the process runtime).
import { spawn } from 'node:child_process';
import type { ProbeOutcome } from './types.js';

export interface RunCommandOptions {
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  /** Output kept for the result, default 10 KiB (what the kubelet keeps of exec probe output). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface RunCommandResult {
  /** The exit code; 128+n for a signal n; 127/126 when it could not start; -1 on timeout. */
  exitCode: number;
  output: string;
  timedOut: boolean;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/** The process's environment, with the agent's PATH when the container has none (so bare
 *  command names resolve as they would in an image with a default PATH). */
export function commandEnv(env: Record<string, string>): Record<string, string> {
  return env.PATH === undefined && process.env.PATH !== undefined ? { ...env, PATH: process.env.PATH } : env;
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone: nothing left to kill.
  }
}

export function runCommand(command: string[], opts: RunCommandOptions): Promise<RunCommandResult> {
  const max = opts.maxOutputBytes ?? 10 * 1024;
  return new Promise((resolve) => {
    const [file, ...args] = command;
    if (file === undefined || file === '') {
      resolve({ exitCode: -1, output: 'empty command', timedOut: false });
      return;
    }
    let output = Buffer.alloc(0);
    let timedOut = false;
    let settled = false;
    const child = spawn(file, args, { env: commandEnv(opts.env), cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c: Buffer): void => {
      if (output.length < max) output = Buffer.concat([output, c.subarray(0, max - output.length)]);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const kill = (): void => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    };
    const timer = setTimeout(kill, opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill);
    const settle = (r: RunCommandResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve(r);
    };
    // Like a shell: 127 when the program does not exist, 126 when it cannot be executed.
    child.on('error', (e: NodeJS.ErrnoException) => settle({ exitCode: e.code === 'ENOENT' ? 127 : 126, output: e.message, timedOut: false }));
    child.on('close', (code, sig) => {
      const exitCode = timedOut ? -1 : code ?? (sig ? 128 + (SIGNAL_NUMBERS[sig] ?? 0) : -1);
      settle({ exitCode, output: output.toString('utf8'), timedOut });
    });
  });
}

/** The exec probe: exit code 0 is success, anything else (and a timeout) is failure. */
export async function execProbe(
  command: string[],
  exec: (command: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  try {
    const r = await exec(command, timeoutMs);
    if (r.exitCode === 0) return { success: true, message: '' };
    const out = r.output.trim();
    if (r.exitCode === -1) return { success: false, message: `command ${JSON.stringify(command)} timed out${out ? `: ${out}` : ''}` };
    return { success: false, message: out || `command ${JSON.stringify(command)} exited with ${r.exitCode}` };
  } catch (e) {
    return { success: false, message: e instanceof Error ? e.message : String(e) };
  }
}
