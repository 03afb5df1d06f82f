// E2E harness: the real kubectl binaries, run once or kept running (`get -w`).
// Guarantees: each run gets a fresh HOME and `--cache-dir` (placed before the arguments, so it
// never lands behind `exec … --`), so no discovery cache leaks between runs; every kubectl is
// tracked (killed by `killAll()`) and killed after its timeout.
// Does not: check exit codes: callers assert on the result (`show()` describes it).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hardKill } from '../../../src/launch/children.js';
import { tracker } from './tracking.js';
import { waitFor } from './wait.js';

export const KUBECTL = '/usr/bin/kubectl';
export const kubectlVersioned = (minor: number): string => `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;

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
  tracker.track(child, true);
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
      hardKill(child, true);
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
  tracker.track(child, true);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return {
    output: () => stdout,
    stderr: () => stderr,
    async waitFor(re, timeoutMs = 20_000) {
      const what = `kubectl ${args.join(' ')} to print ${re}`;
      const got = await waitFor(what, async () => {
        const m = re.exec(stdout);
        if (m !== null) return { match: m[0] };
        // An exit ends the wait at once (as a value: the poll retries on errors).
        return child.exitCode !== null || child.signalCode !== null ? { exited: true as const } : undefined;
      }, timeoutMs, 100).catch((e: unknown) => {
        throw new Error(`${(e as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      });
      if ('exited' in got) {
        throw new Error(`kubectl ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${re}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      }
      return got.match;
    },
    kill: () => hardKill(child, true),
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
