import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { access, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ensurePki, type IssuedCert } from '../../../src/apiserver/pki.js';
import { silentLogger } from '../../../src/util/log.js';
import { ContainerLogWriter } from '../../../src/agent/logs/writer.js';
import type { ContainerContext } from '../../../src/agent/runtime/context.js';
import { startKubeletServer, type KubeletServer } from '../../../src/agent/server/server.js';
import { pollUntil } from '../../../src/util/poll.js';
import { processGone } from '../../helpers/process.js';
import type { StatsSummary } from '../../../src/api/stats-summary.js';

let dir: string;
let ca: string;
let admin: IssuedCert;
let nodeCert: IssuedCert;
let server: KubeletServer;
const containers = new Map<string, ContainerContext>();
let summary: StatsSummary | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelet-api-'));
  const pki = await ensurePki(join(dir, 'pki'), { sans: ['127.0.0.1'] });
  ca = pki.caCertPem;
  admin = await pki.issueClientCert({ commonName: 'system:apiserver', organizations: ['system:masters'] });
  nodeCert = await pki.issueClientCert({ commonName: 'system:node:n1', organizations: ['system:nodes'] });
  const cwd = join(dir, 'work');
  await mkdir(cwd, { recursive: true });
  await writeFile(join(cwd, 'hello.txt'), 'from the working dir\n');
  for (const [name, running] of [['web', true], ['done', false]] as const) {
    containers.set(`default/pod1/${name}`, {
      podUid: 'uid-1', namespace: 'default', podName: 'pod1', container: name,
      env: { GREETING: 'hi there', PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd,
      logDir: join(dir, 'logs', name), running,
    });
  }
  server = await startKubeletServer({
    host: '127.0.0.1', port: 0, servingCertPem: pki.serverCertPem, servingKeyPem: pki.serverKeyPem, caPem: ca,
    lookup: (ns, pod, c) => containers.get(`${ns}/${pod}/${c}`), logger: silentLogger, logPollMs: 20, stats: () => summary,
  });
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function get(path: string, cert: IssuedCert | null = admin): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: server.port, path, ca, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
  });
}

test('healthz answers without a certificate; everything else needs the API server identity', async () => {
  assert.deepEqual(await get('/healthz', null), { status: 200, body: 'ok', type: 'text/plain' });
  const anon = await get('/containerLogs/default/pod1/web', null);
  assert.equal(anon.status, 401);
  assert.equal(JSON.parse(anon.body).reason, 'Unauthorized');
  const node = await get('/containerLogs/default/pod1/web', nodeCert);
  assert.equal(node.status, 403);
  assert.match(JSON.parse(node.body).message, /system:node:n1/);
});

test('stats/summary: the API server identity only; 503 before the first sample, then the summary', async () => {
  assert.equal((await get('/stats/summary', null)).status, 401);
  assert.equal((await get('/stats/summary', nodeCert)).status, 403);
  const early = await get('/stats/summary');
  assert.equal(early.status, 503);
  assert.equal(JSON.parse(early.body).reason, 'ServiceUnavailable');
  const t = '2026-12-02T10:00:00Z';
  summary = { node: { nodeName: 'n1', cpu: { time: t, usageCoreNanoSeconds: 5, usageNanoCores: 7, windowSeconds: 5 }, memory: { time: t, workingSetBytes: 9 } }, pods: [] };
  const r = await get('/stats/summary');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/json');
  assert.deepEqual(JSON.parse(r.body), summary);
});

test('containerLogs: whole log, tail, 404 for unknown containers, 400 for a missing previous', async () => {
  const w = new ContainerLogWriter(containers.get('default/pod1/done')!.logDir);
  for (const l of ['one', 'two', 'three']) w.write('stdout', Buffer.from(`${l}\n`));
  w.close();
  const all = await get('/containerLogs/default/pod1/done');
  assert.equal(all.status, 200);
  assert.equal(all.type, 'text/plain');
  assert.equal(all.body, 'one\ntwo\nthree\n');
  assert.equal((await get('/containerLogs/default/pod1/done?tailLines=1')).body, 'three\n');
  assert.match((await get('/containerLogs/default/pod1/done?tailLines=1&timestamps=true')).body, /^\d{4}-\d\d-\d\dT[\d:.]+Z three\n$/);
  const missing = await get('/containerLogs/default/pod1/nope');
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).kind, 'Status');
  const prev = await get('/containerLogs/default/pod1/done?previous=true');
  assert.equal(prev.status, 400);
  assert.match(JSON.parse(prev.body).message, /previous terminated container "done"/);
  assert.equal((await get('/containerLogs/default/pod1/done?tailLines=abc')).status, 400);
});

test('containerLogs follow streams until the container stops', async () => {
  const ctx = containers.get('default/pod1/web')!;
  const w = new ContainerLogWriter(ctx.logDir);
  w.write('stdout', Buffer.from('first\n'));
  const received: string[] = [];
  const done = new Promise<number>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: server.port, path: '/containerLogs/default/pod1/web?follow=true', ca, cert: admin.certPem, key: admin.keyPem, agent: false }, (res) => {
      res.on('data', (c: Buffer) => received.push(c.toString()));
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  await pollUntil('the first line', () => received.join('') === 'first\n', { timeoutMs: 5000, everyMs: 10 });
  w.write('stderr', Buffer.from('second\n'));
  await pollUntil('the second line', () => received.join('') === 'first\nsecond\n', { timeoutMs: 5000, everyMs: 10 });
  w.write('stdout', Buffer.from('bye\n'));
  w.close();
  containers.set('default/pod1/web', { ...ctx, running: false });
  assert.equal(await done, 200);
  assert.equal(received.join(''), 'first\nsecond\nbye\n');
  containers.set('default/pod1/web', ctx);
});

interface ExecResult { stdout: string; stderr: string; status: { status: string; reason?: string; message?: string; details?: { causes: { reason: string; message: string }[] } }; protocol: string; closeCode: number }

function exec(query: string, opts: { protocol?: string; stdin?: string[]; closeStdin?: boolean; cert?: IssuedCert } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const cert = opts.cert ?? admin;
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/exec/default/pod1/web?${query}`, [opts.protocol ?? 'v5.channel.k8s.io'], { ca, cert: cert.certPem, key: cert.keyPem });
    let stdout = '';
    let stderr = '';
    let status: ExecResult['status'] | undefined;
    ws.on('open', () => {
      for (const s of opts.stdin ?? []) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(s)]));
      if (opts.closeStdin) ws.send(Buffer.from([255, 0]));
    });
    ws.on('message', (m: Buffer) => {
      const data = m.subarray(1).toString();
      if (m[0] === 1) stdout += data;
      else if (m[0] === 2) stderr += data;
      else if (m[0] === 3) status = JSON.parse(data) as ExecResult['status'];
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('close', (code) => {
      if (!status) reject(new Error('closed without a status'));
      else resolve({ stdout, stderr, status, protocol: ws.protocol, closeCode: code });
    });
  });
}

test('exec: stdout and stderr on their channels, env and cwd of the container, Success status', async () => {
  const r = await exec(`command=sh&command=-c&command=${encodeURIComponent('cat hello.txt; echo "$GREETING"; echo oops >&2')}&stdout=true&stderr=true`);
  assert.equal(r.protocol, 'v5.channel.k8s.io');
  assert.equal(r.stdout, 'from the working dir\nhi there\n');
  assert.equal(r.stderr, 'oops\n');
  assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
  assert.equal(r.closeCode, 1000);
});

test('exec: a non-zero exit comes back as NonZeroExitCode with the code', async () => {
  const r = await exec('command=sh&command=-c&command=exit%203&stdout=true&stderr=true');
  assert.equal(r.status.status, 'Failure');
  assert.equal(r.status.reason, 'NonZeroExitCode');
  assert.deepEqual(r.status.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('exec: stdin is delivered and a v5 close frame is EOF', async () => {
  const r = await exec('command=sh&command=-c&command=cat%3B%20echo%20eof&stdin=true&stdout=true&stderr=true', { stdin: ['abc\n', 'def\n'], closeStdin: true });
  assert.equal(r.stdout, 'abc\ndef\neof\n');
  assert.equal(r.status.status, 'Success');
});

test('exec over v4; tty merges stderr into stdout', async () => {
  const r = await exec('command=sh&command=-c&command=echo%20out%3B%20echo%20err%20%3E%262&stdout=true&tty=true', { protocol: 'v4.channel.k8s.io' });
  assert.equal(r.protocol, 'v4.channel.k8s.io');
  assert.equal(r.stdout, 'out\nerr\n');
  assert.equal(r.stderr, '');
});

test('exec: unknown command is an error Status; unknown or stopped container refuses the upgrade', async () => {
  const r = await exec('command=definitely-not-a-command-xyz&stdout=true');
  assert.equal(r.status.status, 'Failure');
  assert.match(r.status.message ?? '', /executable file not found/);
  await assert.rejects(() => exec('command=true&stdout=true', { protocol: 'v3.channel.k8s.io' }), /upgrade refused: 400/);
  await assert.rejects(() => exec('command=true&stdout=true', { cert: nodeCert }), /upgrade refused: 403/);
  const ctx = containers.get('default/pod1/web')!;
  containers.delete('default/pod1/web');
  try {
    await assert.rejects(() => exec('command=true&stdout=true'), /upgrade refused: 404/);
  } finally {
    containers.set('default/pod1/web', ctx);
  }
});

test('exec: a client that disconnects stops the command', async () => {
  // The command prints its pid, then would touch the marker a second later unless stopped:
  // once that pid is gone (killed, or ended after touching), the marker tells which.
  const marker = join(dir, 'work', 'survived');
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/exec/default/pod1/web?command=sh&command=-c&command=${encodeURIComponent(`echo $$; sleep 1; touch ${marker}`)}&stdout=true`, ['v5.channel.k8s.io'], { ca, cert: admin.certPem, key: admin.keyPem });
  const pid = await new Promise<number>((resolve, reject) => {
    ws.on('message', (m: Buffer) => {
      if (m[0] === 1) resolve(Number(m.subarray(1).toString().trim()));
    });
    ws.on('error', reject);
  });
  assert.ok(pid > 0);
  ws.terminate();
  await pollUntil('the exec\'d command to end', () => processGone(pid), { timeoutMs: 5000, everyMs: 20 });
  await assert.rejects(() => access(marker));
});
