// The shared launcher with real child processes: small Node scripts that write a ready file
// (as the CLI does), exit early, or never get ready.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildTracker } from '../../src/launch/children.js';
import { launchCli } from '../../src/launch/cli-process.js';
import { readyFilePath } from '../../src/cli/ready-file.js';
import { pollUntil } from '../../src/util/poll.js';

const root = mkdtempSync(join(tmpdir(), 'trireme-launch-'));
const tracker = new ChildTracker();
after(() => {
  tracker.killAll();
  rmSync(root, { recursive: true, force: true });
});

function script(name: string, body: string): string {
  const file = join(root, name);
  writeFileSync(file, body);
  return file;
}

// Binds port 0 like the CLI and writes the port it got, then waits for SIGTERM.
const serving = script('serving.mjs', `
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
const dir = process.argv[2];
const srv = createServer().listen(0, '127.0.0.1', () => {
  writeFileSync(dir + '/ready.json', JSON.stringify({ pid: process.pid, kubelet: { host: '127.0.0.1', port: srv.address().port } }));
  console.log('ready');
});
process.on('SIGTERM', () => srv.close(() => process.exit(0)));
`);

test('ready once the ready file names the child; a stale file of another pid is not taken for it', async () => {
  const dataDir = join(root, 'a');
  mkdirSync(dataDir);
  writeFileSync(readyFilePath(dataDir), JSON.stringify({ pid: 1, kubelet: { host: '127.0.0.1', port: 1 } }));
  const p = await launchCli({ entry: serving, args: [dataDir], dataDir, logFile: join(root, 'a.log'), tracker, cwd: process.cwd(), readyTimeoutMs: 20_000 });
  assert.equal(p.ready.pid, p.pid);
  assert.ok((p.ready.kubelet?.port ?? 0) > 1, 'the port the child bound');
  assert.equal(p.running(), true);
  assert.deepEqual(await p.stop(), { code: 0, signal: null });
  assert.equal(p.running(), false);
});

test('a child that exits before it is ready fails the start at once, with its log', async () => {
  const dataDir = join(root, 'b');
  const failing = script('failing.mjs', `console.error('cannot bind: EADDRINUSE'); process.exit(3);`);
  const t0 = Date.now();
  await assert.rejects(
    launchCli({ entry: failing, args: [], dataDir, logFile: join(root, 'b.log'), tracker, cwd: process.cwd(), readyTimeoutMs: 20_000 }),
    (e: Error) => /exited early \(code 3/.test(e.message) && /EADDRINUSE/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 15_000, 'did not wait for the timeout');
});

test('a child that never gets ready is killed after the timeout', async () => {
  const dataDir = join(root, 'c');
  const idle = script('idle.mjs', `setInterval(() => undefined, 1000);`);
  let pid = 0;
  await assert.rejects(
    launchCli({ entry: idle, args: [], dataDir, logFile: join(root, 'c.log'), tracker, cwd: process.cwd(), readyTimeoutMs: 1_500, banner: 'idle' }),
    (e: Error) => {
      pid = Number(/pid (\d+)/.exec(e.message)?.[1]);
      return /timed out after 1500 ms/.test(e.message);
    },
  );
  assert.ok(pid > 0);
  await pollUntil('the idle child to be gone', () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  }, { timeoutMs: 5_000 });
});
