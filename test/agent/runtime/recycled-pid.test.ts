// Integration: the process runtime never adopts or signals a process that merely has a recorded
// pid. A stranger (a real process this test spawns, in its own process group, answering pings
// and reporting any SIGTERM) is named in a hand-written state.json with a wrong start time, or
// with the right start times but another boot id (a reboot with a kept data dir); the runtime
// must report the container gone (ContainerStatusUnknown), and `stop` must leave the stranger
// alive — proven by a ping round trip after stop, which a SIGKILL would have prevented.
// Also: a damaged state.json / exit.json / spec.json is reported, logged once, and never read as
// a missing file (no duplicate start, no signal). Every process started is killed in after().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ProcessRuntime, UNKNOWN_REASON } from '../../../src/agent/runtime/process-runtime.js';
import { isLive, procStartTime, readBootId } from '../../../src/agent/runtime/proc-identity.js';
import type { ContainerConfig, ContainerInfo, ContainerRef } from '../../../src/agent/runtime/runtime.js';
import type { SpecFile, StateFile } from '../../../src/agent/runtime/state-files.js';
import { pollUntil } from '../../../src/util/poll.js';

const STRANGER = `
process.on('SIGTERM', () => process.stdout.write('TERM\\n'));
let buf = '';
process.stdin.on('data', (d) => { buf += d; if (buf.includes('ping\\n')) { buf = ''; process.stdout.write('pong\\n'); } });
process.stdout.write('ready\\n');
setInterval(() => {}, 1 << 30);
`;

interface Stranger {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  ping: () => Promise<void>;
}

async function stranger(): Promise<Stranger> {
  const child = spawn(process.execPath, ['-e', STRANGER], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await pollUntil('the stranger is up', () => out.includes('ready\n'), { timeoutMs: 10_000, everyMs: 10 });
  return {
    child,
    out: () => out,
    ping: async () => {
      const seen = out.split('pong\n').length;
      child.stdin.write('ping\n');
      await pollUntil('the stranger answers', () => out.split('pong\n').length > seen || child.exitCode !== null || child.signalCode !== null, { timeoutMs: 5000, everyMs: 5 });
      assert.equal(child.signalCode, null, 'the stranger was killed');
      assert.equal(child.exitCode, null, 'the stranger exited');
    },
  };
}

describe('process runtime and recycled pids', () => {
  let root: string;
  let rt: ProcessRuntime;
  const logs: { level: number; msg: string; file?: string }[] = [];
  const strangers: Stranger[] = [];
  const ownPids: number[] = [];
  let seq = 0;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trireme-recycled-'));
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as (typeof logs)[number]); cb(); } });
    rt = new ProcessRuntime({ podsDir: path.join(root, 'pods'), pollMs: 50, logger: pino({ level: 'info' }, sink) });
  });

  after(async () => {
    rt.close();
    for (const s of strangers) if (s.child.exitCode === null && s.child.signalCode === null) process.kill(-(s.child.pid ?? 0), 'SIGKILL');
    for (const pid of ownPids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(root, { recursive: true, force: true });
  });

  function cfg(argv: string[]): ContainerConfig {
    const podUid = `pod-${++seq}`;
    return {
      podUid, name: 'c', attempt: 0, namespace: 'default', podName: podUid, argv,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: root, logDir: path.join(root, 'pods', podUid, 'logs', 'c'),
    };
  }

  /** An instance directory as a shim would have left it, naming the stranger's pid. */
  async function recorded(s: Stranger, over: Partial<StateFile>): Promise<ContainerRef> {
    const c = cfg(['sleep', '30']);
    const dir = rt.dir(c);
    await mkdir(dir, { recursive: true });
    const spec: SpecFile = { argv: c.argv, env: c.env, cwd: c.cwd, logDir: c.logDir };
    await writeFile(path.join(dir, 'spec.json'), JSON.stringify(spec));
    const pid = s.child.pid ?? 0;
    const start = procStartTime(pid) ?? '';
    const state: StateFile = { shimPid: pid, pid, pgid: pid, startedAt: Date.now() - 60_000, procStart: start, shimStart: start, bootId: readBootId(), ...over };
    await writeFile(path.join(dir, 'state.json'), JSON.stringify(state));
    return c;
  }

  it('a pid with another start time is neither adopted nor signalled; the container is reported gone', async () => {
    const s = await stranger();
    strangers.push(s);
    const start = Number(procStartTime(s.child.pid ?? 0));
    const ref = await recorded(s, { procStart: String(start - 7), shimStart: String(start - 9) });
    await rt.stop(ref, 200);
    await s.ping();
    const info = await rt.inspect(ref);
    assert.equal(info?.state, 'exited');
    assert.equal(info?.reason, UNKNOWN_REASON);
    assert.match(info?.message ?? '', new RegExp(`pid ${s.child.pid} now belongs to another process, which was not signalled`));
    // The verdict is recorded, so it stays the same, and a later stop still signals nothing.
    const exit = JSON.parse(await readFile(path.join(rt.dir(ref), 'exit.json'), 'utf8')) as { reason: string };
    assert.equal(exit.reason, UNKNOWN_REASON);
    await rt.stop(ref, 200);
    await rt.removePod(ref.podUid);
    await s.ping();
    assert.doesNotMatch(s.out(), /TERM/);
  });

  it('after a reboot (another boot id) even matching start times are not trusted', async () => {
    const s = await stranger();
    strangers.push(s);
    const ref = await recorded(s, { bootId: '00000000-0000-4000-8000-000000000000' });
    const info = await rt.inspect(ref);
    assert.equal(info?.state, 'exited');
    assert.equal(info?.reason, UNKNOWN_REASON);
    assert.match(info?.message ?? '', /rebooted/);
    await rt.stop(ref, 200);
    await rt.removePod(ref.podUid);
    await s.ping();
    assert.doesNotMatch(s.out(), /TERM/);
  });

  it('a record without boot id or start times (unverifiable) signals nothing', async () => {
    const s = await stranger();
    strangers.push(s);
    const ref = await recorded(s, { bootId: undefined, procStart: undefined, shimStart: undefined });
    await rt.stop(ref, 200);
    await s.ping();
    const info = await rt.inspect(ref);
    assert.equal(info?.reason, UNKNOWN_REASON);
    assert.doesNotMatch(s.out(), /TERM/);
  });

  it('a damaged state.json is reported (logged once), not read as missing, and nothing is signalled', async () => {
    const c = cfg(['sleep', '30']);
    const started = await rt.start(c);
    assert.equal(started.state, 'running');
    ownPids.push(started.pid ?? 0);
    const file = path.join(rt.dir(c), 'state.json');
    await writeFile(file, '{"shimPid": 12');
    let info: ContainerInfo | undefined;
    for (let i = 0; i < 3; i++) info = await rt.inspect(c);
    assert.equal(info?.state, 'exited');
    assert.equal(info?.reason, UNKNOWN_REASON);
    assert.match(info?.message ?? '', /state\.json is unreadable: not JSON/);
    // start() must not take the instance for one never started.
    assert.equal((await rt.start(c)).reason, UNKNOWN_REASON);
    await rt.stop(c, 100);
    assert.ok(isLive(started.pid ?? 0), 'the container was signalled although its record is unreadable');
    assert.equal(logs.filter((l) => l.file === file && l.level === 50).length, 1);
  });

  it('a damaged exit.json gives ContainerStatusUnknown; a damaged spec.json is not "never started"', async () => {
    const c = cfg(['sh', '-c', 'echo ran']);
    await rt.start(c);
    await pollUntil('it exits', async () => (await rt.inspect(c))?.state === 'exited', { timeoutMs: 10_000, everyMs: 20 });
    await writeFile(path.join(rt.dir(c), 'spec.json'), 'not json');
    const again = await rt.start(c);
    assert.equal(again.state, 'exited');
    assert.equal(again.exitCode, 0);
    assert.equal((await readFile(path.join(c.logDir, 'current.log'), 'utf8')).split('\n').filter(Boolean).length, 1, 'started twice');
    await writeFile(path.join(rt.dir(c), 'exit.json'), '[]');
    const info = await rt.inspect(c);
    assert.equal(info?.reason, UNKNOWN_REASON);
    assert.equal(info?.exitCode, 137);
    assert.match(info?.message ?? '', /exit\.json is unreadable: not the document/);
    assert.equal((await rt.inspect(c))?.finishedAt, info?.finishedAt);
  });
});
