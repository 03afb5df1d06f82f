// The native shim on its own: spawned directly on a temp container dir with a launch.bin (small
// log limits), its state.json, exit.json and log files are checked against the Node side's
// formats: each log file equals, byte for byte after the timestamp, what ContainerLogWriter
// writes for the same output and limits, and both parse the same with the reader.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContainerLogWriter } from '../../../src/agent/logs/writer.js';
import { parseRecord } from '../../../src/agent/logs/cri.js';
import { LAUNCH, decodeLaunch, encodeLaunch } from '../../../src/agent/runtime/launch-file.js';
import { NATIVE_SHIM_PATH } from '../../../src/agent/runtime/shim-command.js';
import { deps, needs } from '../../helpers/require-dep.js';
import type { ExitFile, SpecFile, StateFile } from '../../../src/agent/runtime/state-files.js';

/** Runs the shim to completion on `dir`; resolves with its exit code. */
function runShim(dir: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(NATIVE_SHIM_PATH, [dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.once('error', reject);
    p.once('exit', (code) => resolve(code));
  });
}

/** A log file without its timestamps: what must match byte for byte. */
function untimed(file: Buffer): string[] {
  const lines = file.toString('latin1').split('\n');
  assert.equal(lines.pop(), '', 'every record ends with a newline');
  return lines.map((l) => {
    assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] /);
    assert.ok(parseRecord(Buffer.from(l, 'latin1')), `the reader parses ${l.slice(0, 60)}`);
    return l.slice(l.indexOf(' ') + 1);
  });
}

const readOr = (f: string): Promise<Buffer> => readFile(f).catch(() => Buffer.alloc(0));

describe('native shim', { skip: needs(deps.nativeShim) }, () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trireme-cshim-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function instance(name: string, argv: string[], limits: { maxLogBytes: number; maxLineBytes: number }): Promise<{ dir: string; spec: SpecFile }> {
    const dir = path.join(root, name);
    const spec: SpecFile = { argv, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', X: 'a "quoted" value' }, cwd: root, logDir: path.join(dir, 'logs') };
    await mkdir(spec.logDir, { recursive: true });
    await writeFile(path.join(dir, LAUNCH), encodeLaunch(spec, limits));
    return { dir, spec };
  }

  it('launch.bin round-trips', () => {
    const spec: SpecFile = { argv: ['a', '', 'b c'], env: { K: 'v=w', E: '' }, cwd: '/x', logDir: '/y' };
    assert.deepEqual(decodeLaunch(encodeLaunch(spec, { maxLogBytes: 5, maxLineBytes: 3 })), { ...spec, maxLogBytes: 5, maxLineBytes: 3 });
    assert.throws(() => encodeLaunch({ ...spec, argv: ['a\0b'] }), /NUL/);
  });

  it('writes state.json, exit.json and logs matching ContainerLogWriter byte for byte', async () => {
    const script = 'printf "short\\n0123456789abcdefXYZ\\n%s\\n" "$X"; printf "e1\\ne2-long-line-here\\n" >&2; printf unterminated; exit 5';
    const limits = { maxLogBytes: 1 << 20, maxLineBytes: 8 };
    const { dir } = await instance('ok', ['sh', '-c', script], limits);
    const t0 = Date.now();
    assert.equal(await runShim(dir), 0);
    const state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as StateFile;
    assert.equal(state.pgid, state.pid);
    assert.ok(state.shimPid > 0 && state.pid !== state.shimPid);
    assert.ok(state.startedAt >= t0 - 5 && state.startedAt <= Date.now());
    assert.match(state.procStart ?? '', /^\d+$/);
    const exit = JSON.parse(await readFile(path.join(dir, 'exit.json'), 'utf8')) as ExitFile;
    assert.deepEqual(Object.keys(exit), ['exitCode', 'signal', 'finishedAt', 'reason']);
    assert.equal(exit.exitCode, 5);
    assert.equal(exit.signal, null);
    assert.equal(exit.reason, 'Error');
    assert.ok(exit.finishedAt >= state.startedAt);

    // The same bytes through the Node writer, one stream at a time (their interleaving in the
    // file depends on timing; the order within a stream does not).
    const got = { current: await readOr(path.join(dir, 'logs', 'current.log')), rotated: await readOr(path.join(dir, 'logs', 'current.log.1')) };
    const all = [...untimed(got.rotated), ...untimed(got.current)];
    for (const stream of ['stdout', 'stderr'] as const) {
      const refDir = path.join(root, `ref-${stream}`);
      const w = new ContainerLogWriter(refDir, { maxBytes: limits.maxLogBytes, maxLineBytes: limits.maxLineBytes });
      const bytes = stream === 'stdout' ? 'short\n0123456789abcdefXYZ\na "quoted" value\nunterminated' : 'e1\ne2-long-line-here\n';
      w.write(stream, Buffer.from(bytes));
      w.close();
      const ref = [...untimed(await readOr(path.join(refDir, 'current.log.1'))), ...untimed(await readOr(path.join(refDir, 'current.log')))];
      assert.deepEqual(all.filter((l) => l.startsWith(stream)), ref);
    }
    assert.equal(got.rotated.length, 0);
  });

  it('rotation of a single stream matches ContainerLogWriter file by file', async () => {
    const limits = { maxLogBytes: 400, maxLineBytes: 50 };
    const { dir } = await instance('rot', ['sh', '-c', 'i=0; while [ $i -lt 30 ]; do echo "line $i"; i=$((i+1)); done'], limits);
    assert.equal(await runShim(dir), 0);
    const refDir = path.join(root, 'ref-rot');
    const w = new ContainerLogWriter(refDir, { maxBytes: limits.maxLogBytes, maxLineBytes: limits.maxLineBytes });
    w.write('stdout', Buffer.from(Array.from({ length: 30 }, (_, i) => `line ${i}\n`).join('')));
    w.close();
    for (const f of ['current.log', 'current.log.1']) {
      assert.deepEqual(untimed(await readOr(path.join(dir, 'logs', f))), untimed(await readOr(path.join(refDir, f))), f);
    }
    const exit = JSON.parse(await readFile(path.join(dir, 'exit.json'), 'utf8')) as ExitFile;
    assert.equal(exit.reason, 'Completed');
  });

  it('reports a signal death as 128+n with the signal name', async () => {
    const { dir } = await instance('sig', ['sh', '-c', 'echo bye; kill -TERM $$'], { maxLogBytes: 1 << 20, maxLineBytes: 1024 });
    assert.equal(await runShim(dir), 0);
    const exit = JSON.parse(await readFile(path.join(dir, 'exit.json'), 'utf8')) as ExitFile;
    assert.deepEqual([exit.exitCode, exit.signal, exit.reason], [143, 'SIGTERM', 'Error']);
  });

  it('writes exit.json soon after the exit even when a grandchild keeps the pipes open', async () => {
    const { dir } = await instance('grand', ['sh', '-c', 'sleep 5 & echo started'], { maxLogBytes: 1 << 20, maxLineBytes: 1024 });
    const t0 = Date.now();
    assert.equal(await runShim(dir), 0);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 3000, `took ${took} ms (drain wait is 1 s)`);
    const state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as StateFile;
    try {
      process.kill(-state.pgid, 'SIGKILL'); // the sleep
    } catch {
      // gone
    }
    assert.deepEqual(untimed(await readFile(path.join(dir, 'logs', 'current.log'))), ['stdout F started']);
  });

  it('reports StartError for a missing cwd or launch.bin', async () => {
    const { dir, spec } = await instance('nocwd', ['true'], { maxLogBytes: 1 << 20, maxLineBytes: 1024 });
    await writeFile(path.join(dir, LAUNCH), encodeLaunch({ ...spec, cwd: path.join(root, 'missing') }));
    assert.equal(await runShim(dir), 0);
    const exit = JSON.parse(await readFile(path.join(dir, 'exit.json'), 'utf8')) as ExitFile;
    assert.deepEqual([exit.exitCode, exit.reason, exit.message], [128, 'StartError', 'spawn true ENOENT']);
    assert.equal(existsSync(path.join(dir, 'state.json')), false);
    const empty = path.join(root, 'empty');
    await mkdir(empty);
    assert.equal(await runShim(empty), 0);
    assert.equal((JSON.parse(await readFile(path.join(empty, 'exit.json'), 'utf8')) as ExitFile).reason, 'StartError');
  });
});
