// `trireme lb` as a user runs it (bin/trireme, the lb fast path): bad input is one line on
// stderr with exit 1 and nothing on stdout; the printers write the config to stdout; `--check`
// exits 0 only for a server whose /readyz answers 200 (a real HTTPS server on 127.0.6.30).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki } from '../../src/apiserver/pki.js';
import { freePort } from '../../src/util/free-port.js';
import { cliMain } from '../e2e/harness/paths.js';

function trireme(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

test('trireme lb: bad input is one line and exit 1, printing nothing', { timeout: 120_000 }, async () => {
  const cases: [string[], RegExp][] = [
    [['lb', '--print-keepalived', '--vip', '10.0.0.300/24', '--interface', 'eth0', '--priority', '100'], /--vip: not an IPv4 address: 10\.0\.0\.300/],
    [['lb', '--print-keepalived', '--vip', '10.0.0.100/24', '--interface', 'eth0', '--priority', '255'], /--priority: must be an integer in 1\.\.254/],
    [['lb', '--print-keepalived', '--vip', '10.0.0.100/24', '--interface', 'eth0'], /--print-keepalived needs --priority/],
    [['lb', '--print-keepalived', '--vip', '10.0.0.100/24', '--interface', 'eth0', '--priority', '100', '--router-id', '0'], /--router-id/],
    [['lb', '--print-haproxy', '--listen', '10.0.0.100', '--server', 'https://10.0.0.1:6443'], /--listen: expected HOST:PORT/],
    [['lb', '--print-haproxy', '--listen', '10.0.0.100:6443', '--server', 'http://10.0.0.1:6443'], /--server: the API is HTTPS/],
    [['lb', '--print-haproxy', '--listen', '10.0.0.100:6443'], /at least one API server URL/],
    [['lb', '--listen', '127.0.6.30:0', '--server', 'https://127.0.6.31:1', '--ca', '/nonexistent/ca.crt'], /--ca: cannot read/],
  ];
  for (const [args, re] of cases) {
    const r = await trireme(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const ok = await trireme(['lb', '--print-haproxy', '--listen', '10.0.0.100:6443', '--server', 'https://10.0.0.1:6443']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /server api1 10\.0\.0\.1:6443 check check-ssl verify none/);
  const ka = await trireme(['lb', '--print-keepalived', '--vip', '10.0.0.100/24', '--interface', 'eth0', '--priority', '150', '--peer', '10.0.0.2']);
  assert.equal(ka.code, 0, ka.stderr);
  assert.match(ka.stdout, /script ".+ lb --check https:\/\/127\.0\.0\.1:6443"/);
  assert.match(ka.stdout, /unicast_peer \{\n\s+10\.0\.0\.2/);
});

test('trireme lb --check: exit 0 for /readyz 200, 1 with the reason otherwise', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-lbcheck-'));
  const pki = await ensurePki(dir, { sans: ['127.0.6.30'] });
  let status = 200;
  const server = https.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, (req, res) => {
    res.writeHead(req.url === '/readyz' ? status : 404).end('ok');
  });
  server.listen(0, '127.0.6.30');
  await once(server, 'listening');
  t.after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const url = `https://127.0.6.30:${(server.address() as AddressInfo).port}`;
  const good = await trireme(['lb', '--check', url]);
  assert.equal(good.code, 0, good.stderr);
  await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'ca.pem'), pki.caCertPem));
  const verified = await trireme(['lb', '--check', url, '--ca', join(dir, 'ca.pem')]);
  assert.equal(verified.code, 0, verified.stderr);
  status = 503;
  const notReady = await trireme(['lb', '--check', url]);
  assert.equal(notReady.code, 1);
  assert.match(notReady.stderr, /GET \/readyz answered 503/);
  const refused = await trireme(['lb', '--check', `https://127.0.6.30:${await freePort('127.0.6.30')}`]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /ECONNREFUSED/);
});
