// `--log-format json|text` with a real `trireme apiserver` child process (the CLI compiled next to
// this test): json gives one JSON object per log line, text gives human-readable lines that are
// not JSON, the default follows whether stdout is a terminal (a pipe here: json; under
// script(1)'s pseudo-terminal: text), and the ready banner is plain text in every format.
// Each child is stopped with SIGTERM once its banner is out, and SIGKILLed if anything fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { logFormatOption } from '../../src/cli/options.js';
import { pollUntil } from '../../src/util/poll.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const HOST = '127.0.0.62';

interface Run { stdout: string; code: number | null }

/** Runs `trireme apiserver` until its ready banner, then SIGTERM; returns everything it printed. */
async function runApiServer(format: 'json' | 'text' | undefined, viaPty = false): Promise<Run> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'trireme-logfmt-'));
  const args = ['--import', 'reflect-metadata', MAIN, 'apiserver', '--data-dir', dataDir, '--bind-address', HOST, '--https-port', '0', ...(format ? ['--log-format', format] : [])];
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  // script(1) gives the child a pseudo-terminal as stdout; -e passes its exit code on.
  const child: ChildProcess = viaPty
    ? spawn('script', ['-qfec', [process.execPath, ...args].map(quote).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString('utf8'); });
  child.stderr?.on('data', (b: Buffer) => { out += b.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => { done = true; });
  try {
    await pollUntil('the ready banner', () => {
      if (done) throw new Error(`exited early:\n${out}`);
      return /kubeconfig: /.test(out) && /export KUBECONFIG=/.test(out);
    }, { timeoutMs: 30_000, everyMs: 50 });
    process.kill(-(child.pid ?? 0), 'SIGTERM');
    const code = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit after SIGTERM:\n${out}`)), 15_000).unref())]);
    return { stdout: out.replaceAll('\r\n', '\n'), code };
  } finally {
    if (!done && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

const BANNER = /^(Trireme API server at https:\/\/|kubeconfig: |  export KUBECONFIG=)/;
const logLines = (r: Run) => r.stdout.split('\n').filter((l) => l.trim() !== '' && !BANNER.test(l));
const isJson = (l: string): boolean => {
  try {
    return typeof JSON.parse(l) === 'object';
  } catch {
    return false;
  }
};

function assertBanner(r: Run): void {
  const lines = r.stdout.split('\n');
  assert.ok(lines.some((l) => /^Trireme API server at https:\/\/127\.0\.0\.62:\d+$/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^  export KUBECONFIG=\S+kubeconfig\.yaml$/.test(l)), r.stdout);
}

describe('--log-format (real child process)', { timeout: 120_000 }, () => {
  it('json: every log line is a JSON object with level, component and msg', async () => {
    const r = await runApiServer('json');
    assert.equal(r.code, 0, r.stdout);
    assertBanner(r);
    const lines = logLines(r);
    assert.ok(lines.length >= 2, r.stdout);
    for (const l of lines) assert.ok(isJson(l), `not JSON: ${l}`);
    const ready = lines.map((l) => JSON.parse(l) as { level: number; component: string; msg: string }).find((o) => o.msg === 'API server ready');
    assert.deepEqual([ready?.level, ready?.component], [30, 'apiserver']);
  });

  it('text: human-readable lines (time, level, [component] message), none of them JSON', async () => {
    const r = await runApiServer('text');
    assert.equal(r.code, 0, r.stdout);
    assertBanner(r);
    const lines = logLines(r);
    assert.ok(lines.length >= 2, r.stdout);
    for (const l of lines) assert.ok(!isJson(l), `JSON in text mode: ${l}`);
    assert.ok(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[apiserver\] API server ready \{.*"url":"https:\/\/127\.0\.0\.62:\d+"/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /INFO: \[server\] shutting down \{"signal":"SIGTERM"\}/.test(l)), r.stdout);
  });

  it('default: json on a pipe, text on a terminal', async () => {
    assert.ok(existsSync('/usr/bin/script'), 'script(1) (util-linux / bsdutils) is needed for the terminal case');
    const [piped, tty] = await Promise.all([runApiServer(undefined), runApiServer(undefined, true)]);
    assert.ok(logLines(piped).every(isJson), piped.stdout);
    assertBanner(tty);
    const lines = logLines(tty);
    assert.ok(lines.length >= 2 && lines.every((l) => !isJson(l)), tty.stdout);
    assert.ok(lines.some((l) => /INFO.*\[apiserver\] API server ready/.test(l)), tty.stdout);
  });

  it('a bad value is refused by the option parser with a one-line message', () => {
    const cmd = logFormatOption(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined })).action(() => undefined);
    assert.throws(() => cmd.parse(['--log-format', 'yaml'], { from: 'user' }), /log format must be json or text, not yaml/);
    assert.equal(cmd.parse(['--log-format', 'text'], { from: 'user' }).opts().logFormat, 'text');
  });
});
