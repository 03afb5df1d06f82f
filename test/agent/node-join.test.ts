// Joining a cluster (src/agent/node-join.ts): the pure mapping of HTTP outcomes to typed errors
// with one-line messages, and, against a real API server, a good join (credentials stored and
// reused without the token), a refused token (401/403, no retry), a CA that is not the pinned one
// (Forbidden), an unreachable server (retried with a warn line each time, then
// ServiceUnavailable), and the CLI printing a refused join as one line with exit code 1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { joinFailure, joinNetworkFailure, loadOrJoin, retriable } from '../../src/agent/node-join.js';
import { isTriremeError } from '../../src/errors.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('node join: HTTP outcomes', () => {
  const table: [number, string, string, RegExp, boolean][] = [
    [401, '{"kind":"Status","message":"invalid bearer token"}', 'Unauthorized', /refused the join token \(HTTP 401: invalid bearer token\); check --token/, false],
    [403, '', 'Forbidden', /refused the join token \(HTTP 403\)/, false],
    [404, 'not found', 'NotFound', /does not serve \/trireme\/v1\/node-credentials \(HTTP 404\); is --server the URL of a Trireme API server\?/, false],
    [400, '{"message":"nodeName is required"}', 'BadRequest', /rejected the join request \(HTTP 400: nodeName is required\)/, false],
    [429, '', 'TooManyRequests', /throttling/, true],
    [500, 'boom', 'ServiceUnavailable', /is unavailable \(HTTP 500: boom\)/, true],
    [503, '{"message":"store not ready"}', 'ServiceUnavailable', /is unavailable \(HTTP 503: store not ready\)/, true],
  ];
  for (const [status, body, code, message, retry] of table) {
    it(`HTTP ${status} → ${code}${retry ? ', retried' : ''}`, () => {
      const e = joinFailure('https://s:6443', '/trireme/v1/node-credentials', status, body);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.equal(e.message.includes('\n'), false);
      assert.equal(retriable(e), retry);
    });
  }

  it('network errors: refused → ServiceUnavailable, timed out → Timeout, both retried', () => {
    const refused = joinNetworkFailure('https://s:6443', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    assert.equal(refused.code, 'ServiceUnavailable');
    assert.equal(refused.message, 'https://s:6443 cannot be reached (ECONNREFUSED)');
    const slow = joinNetworkFailure('https://s:6443', Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    assert.equal(slow.code, 'Timeout');
    assert.ok(retriable(refused) && retriable(slow));
  });
});

describe('node join against a real API server', { timeout: 60_000 }, () => {
  let api: TestApiServer;
  let token: string;
  const dirs: string[] = [];
  const tmp = async (): Promise<string> => {
    const d = await mkdtemp(path.join(tmpdir(), 'trireme-join-'));
    dirs.push(d);
    return d;
  };

  before(async () => {
    api = await startTestApiServer();
    token = (await readFile(path.join(api.dataDir, 'token'), 'utf8')).trim();
  });
  after(async () => {
    await api.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('joins, stores the credentials, and reuses them without the token', async () => {
    const dir = await tmp();
    const creds = await loadOrJoin(dir, api.server.url, token, 'j1', '127.0.0.1');
    assert.match(creds.clientCertPem, /BEGIN CERTIFICATE/);
    const again = await loadOrJoin(dir, api.server.url, undefined, 'j1', '127.0.0.1');
    assert.equal(again.clientCertPem, creds.clientCertPem);
  });

  it('a wrong secret is refused at once (no retry)', async () => {
    const bad = `${token.slice(0, token.lastIndexOf(':') + 1)}wrong-secret`;
    await assert.rejects(loadOrJoin(await tmp(), api.server.url, bad, 'j2', '127.0.0.1', { retryForMs: 60_000 }),
      (e) => (isTriremeError(e, 'Unauthorized') || isTriremeError(e, 'Forbidden')) && /refused the join token/.test(e.message));
  });

  it('a CA other than the pinned one is Forbidden', async () => {
    const pinned = token.replace(/^(K10)?[0-9a-f]{64}/i, (m) => m.slice(0, -64) + '0'.repeat(64));
    assert.notEqual(pinned, token);
    await assert.rejects(loadOrJoin(await tmp(), api.server.url, pinned, 'j3', '127.0.0.1'), (e) => isTriremeError(e, 'Forbidden') && /not the one the join token pins/.test(e.message));
  });

  it('an unreachable server is retried, then ServiceUnavailable', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string }); cb(); } }));
    await assert.rejects(loadOrJoin(await tmp(), `https://127.0.0.1:${port}`, token, 'j4', '127.0.0.1', { retryForMs: 2000, logger }),
      (e) => isTriremeError(e, 'ServiceUnavailable') && e.message === `https://127.0.0.1:${port} cannot be reached (ECONNREFUSED)`);
    assert.ok(lines.filter((l) => l.msg === 'joining the cluster failed; retrying').length >= 2);
  });

  it('the CLI prints a refused join as one line and exits 1', async () => {
    const bad = `${token.slice(0, token.lastIndexOf(':') + 1)}wrong-secret`;
    const child = spawn(process.execPath, ['--import', 'reflect-metadata', path.join(repoRoot, 'bin', 'trireme'), 'agent', '--server', api.server.url, '--token', bad,
      '--data-dir', await tmp(), '--node-name', 'j5', '--kubelet-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(err, /^trireme agent: cannot join: https:\/\/\S+ refused the join token \(HTTP 40[13][^\n]*\n$/);
  });
});
