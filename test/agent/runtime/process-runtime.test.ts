// Integration: the process runtime with real shims and real processes, once with the native
// shim (when built) and once with the Node shim: start, exit codes, StartError, kill -9,
// adoption by a new runtime (an agent restart), logs with partial and over-long lines, size
// rotation, previous logs. Every process started is killed in after() (groups from state.json).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProcessRuntime } from '../../../src/agent/runtime/process-runtime.js';
import { deps, needs } from '../../helpers/require-dep.js';
import type { ContainerConfig, ContainerInfo } from '../../../src/agent/runtime/runtime.js';
import type { StateFile } from '../../../src/agent/runtime/state-files.js';
import { readLogs } from '../../../src/agent/logs/reader.js';
import { isLive, procStartTime, readBootId } from '../../../src/agent/runtime/proc-identity.js';
import { pollUntil } from '../../../src/util/poll.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function collect(logDir: string, previous = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of readLogs({ logDir, isRunning: () => false }, { previous })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function statesUnder(dir: string): Promise<StateFile[]> {
  const out: StateFile[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile() && e.name === 'state.json') out.push(JSON.parse(await readFile(path.join(e.parentPath, e.name), 'utf8')) as StateFile);
  }
  return out;
}

for (const shim of ['native', 'node'] as const) {
  describe(`process runtime with the ${shim} shim`, { skip: shim === 'native' && needs(deps.nativeShim) }, () => {
    let root: string;
    let rt: ProcessRuntime;
    let seq = 0;
    const saved = process.env.TRIREME_SHIM;

    before(async () => {
      process.env.TRIREME_SHIM = shim;
      root = await mkdtemp(path.join(tmpdir(), `trireme-rt-${shim}-`));
      rt = new ProcessRuntime({ podsDir: path.join(root, 'pods'), pollMs: 50 });
    });

    after(async () => {
      rt.close();
      for (const s of await statesUnder(root)) {
        for (const pid of [-s.pgid, s.shimPid]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      await rm(root, { recursive: true, force: true });
      if (saved === undefined) delete process.env.TRIREME_SHIM;
      else process.env.TRIREME_SHIM = saved;
    });

    function cfg(argv: string[], over: Partial<ContainerConfig> = {}): ContainerConfig {
      const podUid = over.podUid ?? `pod-${++seq}`;
      return {
        podUid, name: 'c', attempt: 0, namespace: 'default', podName: podUid, argv,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hi there' }, cwd: root,
        logDir: path.join(root, 'pods', podUid, 'logs', 'c'), ...over,
      };
    }

    async function untilExited(c: ContainerConfig, ms = 10_000): Promise<ContainerInfo> {
      const end = Date.now() + ms;
      for (;;) {
        const info = await rt.inspect(c);
        if (info?.state === 'exited') return info;
        if (Date.now() > end) throw new Error(`still ${info?.state} after ${ms} ms`);
        await sleep(20);
      }
    }

    it('runs a command with its env and cwd, reports exit 0 as Completed and exit 3 as Error', async () => {
      const ok = cfg(['sh', '-c', 'echo "$GREETING from $(pwd)"']);
      const started = await rt.start(ok);
      assert.ok(started.state === 'running' || started.state === 'exited');
      const done = await untilExited(ok);
      assert.equal(done.exitCode, 0);
      assert.equal(done.reason, 'Completed');
      assert.equal(done.signal, undefined);
      assert.equal((await collect(ok.logDir)).toString(), `hi there from ${root}\n`);
      const bad = cfg(['sh', '-c', 'exit 3']);
      await rt.start(bad);
      const failed = await untilExited(bad);
      assert.equal(failed.exitCode, 3);
      assert.equal(failed.reason, 'Error');
    });

    it('reports StartError (exit code 128) for a missing command, without state.json', async () => {
      const c = cfg(['no-such-command-trireme']);
      await rt.start(c);
      const info = await untilExited(c);
      assert.equal(info.reason, 'StartError');
      assert.equal(info.exitCode, 128);
      assert.equal(info.message, 'spawn no-such-command-trireme ENOENT');
      assert.equal(existsSync(path.join(rt.dir(c), 'state.json')), false);
    });

    it('reports kill -9 as exit code 137, signal SIGKILL, and tells onExit', async () => {
      const seen: ContainerInfo[] = [];
      rt.onExit((i) => seen.push(i));
      const c = cfg(['sleep', '30']);
      const info = await rt.start(c);
      assert.equal(info.state, 'running');
      const state = JSON.parse(await readFile(path.join(rt.dir(c), 'state.json'), 'utf8')) as StateFile;
      assert.equal(state.pid, info.pid);
      assert.equal(state.pgid, info.pid);
      assert.ok(state.procStart);
      process.kill(info.pid!, 'SIGKILL');
      const done = await untilExited(c);
      assert.equal(done.exitCode, 137);
      assert.equal(done.signal, 'SIGKILL');
      assert.equal(done.reason, 'Error');
      for (let i = 0; i < 100 && !seen.some((s) => s.podUid === c.podUid); i++) await sleep(20);
      assert.ok(seen.some((s) => s.podUid === c.podUid && s.exitCode === 137));
    });

    it('is adopted by a new runtime (agent restart), which sees it exit when stopped', async () => {
      const c = cfg(['sh', '-c', 'echo up; exec sleep 30']);
      const info = await rt.start(c);
      const rt2 = new ProcessRuntime({ podsDir: path.join(root, 'pods'), pollMs: 50 });
      try {
        const seen: ContainerInfo[] = [];
        rt2.onExit((i) => seen.push(i));
        const adopted = await rt2.inspect(c);
        assert.equal(adopted?.state, 'running');
        assert.equal(adopted?.pid, info.pid);
        // Starting the same instance again returns it instead of running a duplicate.
        assert.equal((await rt2.start(c)).pid, info.pid);
        await rt2.stop(c, 2000);
        const done = await rt2.inspect(c);
        assert.equal(done?.state, 'exited');
        assert.equal(done?.exitCode, 143);
        assert.equal(done?.signal, 'SIGTERM');
        assert.equal((await collect(c.logDir)).toString(), 'up\n');
      } finally {
        rt2.close();
      }
    });

    it('logs an over-long line as P fragments and an unterminated last line as P, per stream', async () => {
      const c = cfg(['sh', '-c', 'head -c 40000 /dev/zero | tr "\\0" a; echo; echo err >&2; printf tail']);
      await rt.start(c);
      await untilExited(c);
      const raw = (await readFile(path.join(c.logDir, 'current.log'), 'utf8')).trimEnd().split('\n');
      const fields = raw.map((l) => l.split(' ').slice(1, 3).join(' '));
      const stdout = fields.filter((f) => f.startsWith('stdout'));
      assert.deepEqual(stdout, ['stdout P', 'stdout P', 'stdout F', 'stdout P']);
      assert.ok(fields.includes('stderr F'));
      assert.equal(raw[0]!.split(' ')[3]!.length, 16 * 1024);
      const text = (await collect(c.logDir)).toString();
      assert.equal(text.replace('err\n', ''), `${'a'.repeat(40000)}\ntail`);
    });

    it('rotates current.log at 10 MiB into current.log.1; the reader spans both', async () => {
      // 11 MB of 99-byte lines (plus newline).
      const c = cfg(['sh', '-c', 'yes "$(head -c 99 /dev/zero | tr "\\0" x)" | head -n 110000']);
      await rt.start(c);
      await untilExited(c, 30_000);
      const rotated = await stat(path.join(c.logDir, 'current.log.1'));
      const current = await stat(path.join(c.logDir, 'current.log'));
      assert.ok(rotated.size <= 10 * 1024 * 1024 && rotated.size > 9 * 1024 * 1024, `rotated ${rotated.size}`);
      assert.ok(current.size > 0);
      const text = await collect(c.logDir);
      assert.equal(text.length, 110000 * 100);
    });

    it('keeps the last instance\'s log as previous.log when the next instance starts', async () => {
      const first = cfg(['sh', '-c', 'echo one; printf two']);
      await rt.start(first);
      await untilExited(first);
      const second = { ...first, attempt: 1, argv: ['sh', '-c', 'echo three'] };
      await rt.start(second);
      await untilExited(second);
      assert.equal((await collect(first.logDir, true)).toString(), 'one\ntwo');
      assert.equal((await collect(first.logDir)).toString(), 'three\n');
    });

    it('records the start times and boot id; a lost shim gets its container killed and reported', async () => {
      const c = cfg(['sleep', '30']);
      const info = await rt.start(c);
      assert.equal(info.state, 'running');
      const state = JSON.parse(await readFile(path.join(rt.dir(c), 'state.json'), 'utf8')) as StateFile;
      assert.equal(state.procStart, procStartTime(state.pid));
      assert.equal(state.shimStart, procStartTime(state.shimPid));
      assert.equal(state.bootId, readBootId());
      process.kill(state.shimPid, 'SIGKILL');
      const done = await untilExited(c);
      assert.equal(done.exitCode, 137);
      assert.equal(done.message, 'the container shim was lost');
      await pollUntil('the orphaned container is killed', () => !isLive(state.pid), { timeoutMs: 5000, everyMs: 20 });
    });
  });
}
