// `trireme dashboard` (the CLI compiled next to this test) against a real in-process API server
// on 127.0.70.21: it prints the server's /dashboard address with a token in the fragment, and
// the token reads the API; a bad --ttl or an unreadable kubeconfig is one line and exit 1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rawRequest, readCredentials } from '../e2e/harness/raw-http.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function trireme(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'reflect-metadata', MAIN, ...args], { timeout: 60_000, env: { ...process.env, KUBECONFIG: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('trireme dashboard', () => {
  let api: TestApiServer;

  before(async () => {
    api = await startTestApiServer('127.0.70.21');
  });

  after(async () => {
    await api?.close();
  });

  it('prints the signed-in address of the kubeconfig\'s server; the token reads the API and expires when it says', async () => {
    const r = await trireme(['dashboard', '--kubeconfig', api.server.kubeconfigPath, '--ttl', '2h']);
    assert.equal(r.code, 0, r.stderr);
    const m = new RegExp(`^${api.server.url.replace(/[.]/g, '\\.')}/dashboard#token=(trd1\\.[\\w.-]+)\\n$`).exec(r.stdout);
    assert.ok(m, r.stdout);
    const until = /^read-only, valid until (\S+Z);/.exec(r.stderr);
    assert.ok(until, r.stderr);
    const left = Date.parse(until[1]!) - Date.now();
    assert.ok(left > 7000_000 && left <= 7200_000, `${left} ms left`);
    const nodes = await rawRequest(readCredentials(api.server.kubeconfigPath), '/api/v1/nodes', { auth: false, headers: { Authorization: `Bearer ${decodeURIComponent(m[1]!)}` } });
    assert.equal(nodes.status, 200, nodes.text);
  });

  it('a bad --ttl or no kubeconfig: one line, exit 1', async () => {
    for (const ttl of ['10s', '25h', 'soon']) {
      const r = await trireme(['dashboard', '--kubeconfig', api.server.kubeconfigPath, '--ttl', ttl]);
      assert.equal(r.code, 1, `${ttl}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /option '--ttl <duration>' argument '.*' is invalid/);
    }
    const r = await trireme(['dashboard', '--kubeconfig', '/nonexistent/kubeconfig.yaml']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^trireme dashboard: .*\n$/);
  });
});
