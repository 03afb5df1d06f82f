import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { httpProbe } from '../../../src/agent/probes/http.js';
import { tcpProbe } from '../../../src/agent/probes/tcp.js';
import { runCommand, execProbe } from '../../../src/agent/probes/exec.js';
import { grpcProbe, decodeHealthCheckStatus, encodeHealthCheckRequest } from '../../../src/agent/probes/grpc.js';
import { proberFor } from '../../../src/agent/probes/prober.js';
import type { ProbeContext } from '../../../src/agent/probes/types.js';
import { pollUntil } from '../../../src/util/poll.js';
import { processGone } from '../../helpers/process.js';

async function listen(server: http.Server | net.Server | http2.Http2Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

test('httpGet: 2xx/3xx succeed, 500 fails with the status, headers and path are sent', async () => {
  const seen: { url?: string; headers?: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/ok') res.writeHead(200).end('fine');
    else if (req.url === '/moved') res.writeHead(302, { location: 'http://elsewhere/' }).end();
    else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 2000);
    else res.writeHead(500).end('broken');
  });
  const port = await listen(server);
  try {
    const base = { scheme: 'HTTP' as const, host: '127.0.0.1', port, headers: [{ name: 'X-Probe', value: 'yes' }, { name: 'Host', value: 'example.test' }] };
    assert.deepEqual(await httpProbe({ ...base, path: '/ok' }, 1000), { success: true, message: '' });
    assert.equal(seen[0]!.headers!['x-probe'], 'yes');
    assert.equal(seen[0]!.headers!.host, 'example.test');
    assert.match(String(seen[0]!.headers!['user-agent']), /^kube-probe\//);
    assert.equal((await httpProbe({ ...base, path: '/moved' }, 1000)).success, true);
    const bad = await httpProbe({ ...base, path: 'err' }, 1000);
    assert.equal(bad.success, false);
    assert.match(bad.message, /statuscode: 500/);
    assert.equal(seen.at(-1)!.url, '/err');
    const slow = await httpProbe({ ...base, path: '/slow' }, 200);
    assert.equal(slow.success, false);
    assert.match(slow.message, /deadline exceeded/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('httpGet: connection refused fails', async () => {
  const server = net.createServer();
  const port = await listen(server);
  server.close();
  const r = await httpProbe({ scheme: 'HTTP', host: '127.0.0.1', port, path: '/', headers: [] }, 1000);
  assert.equal(r.success, false);
  assert.match(r.message, /ECONNREFUSED/);
});

test('tcpSocket: open port succeeds, closed port fails, cancel stops it', async () => {
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  try {
    assert.deepEqual(await tcpProbe('127.0.0.1', port, 1000), { success: true, message: '' });
  } finally {
    server.close();
  }
  const closed = await tcpProbe('127.0.0.1', port, 1000);
  assert.equal(closed.success, false);
  assert.match(closed.message, /ECONNREFUSED/);
  // A cancelled probe (the worker's watchdog fired) gives up at once.
  const ac = new AbortController();
  const pending = tcpProbe('127.0.0.1', port, 5000, ac.signal);
  ac.abort();
  assert.equal((await pending).success, false);
});

test('exec: exit codes, env and cwd, output, timeout kills the process group', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'probe-exec-'));
  try {
    await writeFile(join(dir, 'marker'), 'here');
    const ok = await runCommand(['sh', '-c', 'cat marker; echo " $FOO"'], { env: { FOO: 'bar' }, cwd: dir, timeoutMs: 2000 });
    assert.deepEqual(ok, { exitCode: 0, output: 'here bar\n', timedOut: false });
    const three = await runCommand(['sh', '-c', 'echo oops >&2; exit 3'], { env: {}, cwd: dir, timeoutMs: 2000 });
    assert.equal(three.exitCode, 3);
    assert.equal(three.output, 'oops\n');
    const missing = await runCommand(['/nonexistent/bin'], { env: {}, cwd: dir, timeoutMs: 2000 });
    assert.equal(missing.exitCode, 127);
    // The background subshell would touch `late` after 1 s unless the whole group is killed:
    // once that subshell is gone (killed, or ended after touching), `late` tells which.
    const t0 = Date.now();
    const slow = await runCommand(['sh', '-c', '(sleep 1; touch late) & echo $! > bg.pid; sleep 5'], { env: {}, cwd: dir, timeoutMs: 400 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.exitCode, -1);
    assert.ok(Date.now() - t0 < 1000);
    const bg = Number(await readFile(join(dir, 'bg.pid'), 'utf8'));
    assert.ok(bg > 0);
    await pollUntil('the background subshell to end', () => processGone(bg), { timeoutMs: 5000, everyMs: 20 });
    assert.equal(existsSync(join(dir, 'late')), false);

    const exec = (cmd: string[], timeoutMs: number) => runCommand(cmd, { env: {}, cwd: dir, timeoutMs });
    assert.equal((await execProbe(['true'], exec, 1000)).success, true);
    const f = await execProbe(['sh', '-c', 'echo not yet; exit 1'], exec, 1000);
    assert.deepEqual(f, { success: false, message: 'not yet' });
    assert.match((await execProbe(['sleep', '5'], exec, 100)).message, /timed out/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('grpc: SERVING succeeds, NOT_SERVING fails', async () => {
  let status = 1;
  let askedService = '';
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    assert.equal(headers[':path'], '/grpc.health.v1.Health/Check');
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const req = Buffer.concat(chunks);
      askedService = req.subarray(7).toString();
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, status]));
    });
  });
  const port = await listen(server);
  try {
    assert.deepEqual(await grpcProbe('127.0.0.1', port, 'svc', 1000), { success: true, message: '' });
    assert.equal(askedService, 'svc');
    status = 2;
    const r = await grpcProbe('127.0.0.1', port, '', 1000);
    assert.equal(r.success, false);
    assert.match(r.message, /NOT_SERVING/);
  } finally {
    server.close();
  }
  assert.equal(decodeHealthCheckStatus(Buffer.from([0, 0, 0, 0, 0])), 0);
  assert.deepEqual([...encodeHealthCheckRequest('')], [0, 0, 0, 0, 0]);
});

test('proberFor resolves named ports through the context and uses the pod IP by default', async () => {
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  try {
    const ctx: ProbeContext = {
      host: '127.0.0.1',
      resolvePort: (p) => (p === 'http' ? port : typeof p === 'number' ? p : undefined),
      exec: () => Promise.resolve({ exitCode: 0, output: '' }),
    };
    const signal = new AbortController().signal;
    assert.equal((await proberFor({ tcpSocket: { port: 'http' } }, ctx)(1000, signal)).success, true);
    const unknown = await proberFor({ tcpSocket: { port: 'nope' } }, ctx)(1000, signal);
    assert.deepEqual(unknown, { success: false, message: 'unable to resolve port "nope"' });
    assert.equal((await proberFor({ exec: { command: ['x'] } }, ctx)(1000, signal)).success, true);
    assert.equal((await proberFor({}, ctx)(1000, signal)).success, false);
  } finally {
    server.close();
  }
});
