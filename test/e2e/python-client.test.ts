// End-to-end: the Debian python client (python3-kubernetes, run with /usr/bin/python3) as a third
// real client, against a real `trireme server` with its local agent, configured only from the
// kubeconfig the server writes. test/e2e/fixtures/python/scenarios.py does what a user of the
// client does and prints what the client saw; this file asserts on it (and on the server's own
// view through raw requests): ConfigMap CRUD, a 409 on a stale update, limit/continue paging as a
// snapshot, a watch resumed from a resourceVersion (exactly the later events, in order), logs of
// a running pod (tail, timestamps, previous) and exec over the client's websocket `stream`
// (stdout, stderr, stdin, exit code).
// Does not cover: the python client's informer-like helpers, port-forward, attach.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { deps, needs, PYTHON } from '../helpers/require-dep.js';
import { deleteWorkloads, fixture, fixtureText, killAll, processesWith, runId, startServer, waitFor, type ServerHandle } from './harness.js';

const HOST = '127.0.0.50';
const STEP = { timeout: 120_000 };
const SCRIPT = fixture('python/scenarios.py');

interface StatusSeen {
  status: number;
  body: { kind?: string; status?: string; code?: number; reason?: string; message?: string; details?: { name?: string } };
}

const pythons = new Set<ChildProcess>();

/** Runs one scenario; resolves with its JSON output, rejects with its stderr on a failure. */
function scenario<T>(kubeconfig: string, name: string, namespace: string, ...args: string[]): Promise<T> {
  // The Debian interpreter with a clean environment: pyenv's PYTHONPATH/PYTHONHOME must not leak.
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', PYTHONDONTWRITEBYTECODE: '1' };
  const child = spawn(PYTHON, [SCRIPT, kubeconfig, name, namespace, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  pythons.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      pythons.delete(child);
      if (code !== 0) return reject(new Error(`python scenario ${name} exited with ${code ?? signal}:\n${err.slice(-4000)}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`python scenario ${name} printed no JSON:\n${out.slice(0, 2000)}\n${err.slice(-2000)}`));
      }
    });
  });
}

function assertStatus(seen: StatusSeen | string, code: number, reason: string): StatusSeen {
  assert.ok(typeof seen === 'object', `expected a ${code} ApiException, got ${JSON.stringify(seen)}`);
  assert.equal(seen.status, code, JSON.stringify(seen.body));
  assert.equal(seen.body.kind, 'Status');
  assert.equal(seen.body.status, 'Failure');
  assert.equal(seen.body.code, code);
  assert.equal(seen.body.reason, reason);
  return seen;
}

const rv = (s: string): number => {
  const n = Number(s);
  assert.ok(Number.isInteger(n) && n > 0, `resourceVersion ${s}`);
  return n;
};

describe('the python client (python3-kubernetes) against trireme', { skip: needs(deps.pythonKubernetes, deps.kubectl), timeout: 10 * 60_000 }, () => {
  let srv: ServerHandle;
  const step = (name: string, fn: () => Promise<void>): void => {
    it(name, STEP, () => srv.guard(fn));
  };
  const run = <T>(name: string, namespace: string, ...args: string[]): Promise<T> => scenario<T>(srv.kubeconfig, name, namespace, ...args);
  const namespace = async (name: string): Promise<void> => {
    const r = await srv.request('/api/v1/namespaces', { method: 'POST', body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 201, r.text);
  };

  before(async () => {
    srv = await startServer({ host: HOST, agent: { nodeName: 'py1' } });
  });
  after(async () => {
    for (const p of pythons) p.kill('SIGKILL');
    if (srv) await deleteWorkloads(srv);
    await srv?.dispose();
    killAll();
  });

  step('ConfigMap CRUD: create, read, replace, patch, list, delete (then 404 NotFound)', async () => {
    await namespace('py-crud');
    interface Seen { uid: string; rv: string; data: Record<string, string> }
    const r = await run<{ created: Seen; read: Seen; replaced: Seen; patched: Seen; listed: string[]; after_delete: StatusSeen }>('crud', 'py-crud');
    assert.deepEqual(r.created.data, { a: '1' });
    assert.equal(r.read.uid, r.created.uid);
    assert.equal(r.read.rv, r.created.rv);
    assert.deepEqual(r.read.data, { a: '1' });
    assert.deepEqual(r.replaced.data, { a: '1', b: '2' });
    assert.ok(rv(r.replaced.rv) > rv(r.created.rv), 'replace did not advance the resourceVersion');
    assert.deepEqual(r.patched.data, { a: 'patched', b: '2' }, 'the client\'s default patch (a merge patch of a dict) merged');
    assert.ok(rv(r.patched.rv) > rv(r.replaced.rv));
    assert.deepEqual(r.listed, ['py-crud']);
    assertStatus(r.after_delete, 404, 'NotFound');
    assert.equal((await srv.request('/api/v1/namespaces/py-crud/configmaps/py-crud')).status, 404, 'the server still has it');
  });

  step('a replace with a stale resourceVersion → 409 Conflict, nothing changed', async () => {
    await namespace('py-conflict');
    const r = await run<{ ok_rv: string; stale_rv: string; stale: StatusSeen | string; now: { rv: string; data: Record<string, string> } }>('conflict', 'py-conflict');
    assert.ok(rv(r.ok_rv) > rv(r.stale_rv));
    const s = assertStatus(r.stale, 409, 'Conflict');
    assert.equal(s.body.details?.name, 'py-stale');
    assert.deepEqual(r.now.data, { n: '2' });
    assert.equal(r.now.rv, r.ok_rv);
  });

  step('limit/continue pages through 25 ConfigMaps as one snapshot', async () => {
    await namespace('py-paging');
    interface Page { names: string[]; continue: string | null; rv: string; remaining: number | null }
    const { pages } = await run<{ pages: Page[] }>('paging', 'py-paging', '25', '10');
    assert.deepEqual(pages.map((p) => p.names.length), [10, 10, 5]);
    const expected = Array.from({ length: 25 }, (_, i) => `py-page-${String(i).padStart(2, '0')}`);
    assert.deepEqual(pages.flatMap((p) => p.names), expected, 'every object once, in key order, without the one written between pages');
    assert.deepEqual(pages.map((p) => p.remaining), [15, 5, null]);
    assert.ok(pages[0]!.continue && pages[1]!.continue && pages[2]!.continue === null);
    assert.equal(new Set(pages.map((p) => p.rv)).size, 1, `pages from one snapshot: ${pages.map((p) => p.rv).join(', ')}`);
    const all = JSON.parse((await srv.request('/api/v1/namespaces/py-paging/configmaps')).text) as { items: { metadata: { name: string } }[] };
    assert.equal(all.items.length, 26, 'the object written between pages exists');
  });

  step('a watch resumed from a resourceVersion receives exactly the later events, in order', async () => {
    await namespace('py-watch');
    interface Ev { type: string; name: string; rv: string; data: Record<string, string> }
    const r = await run<{ from: string; events: Ev[] }>('watch', 'py-watch');
    assert.deepEqual(r.events.map((e) => [e.type, e.name, e.data]), [
      ['ADDED', 'py-w2', { v: '1' }],
      ['MODIFIED', 'py-w2', { v: '2' }],
      ['DELETED', 'py-w1', { v: '1' }],
    ]);
    const rvs = [r.from, ...r.events.map((e) => e.rv)].map(rv);
    assert.deepEqual([...rvs].sort((a, b) => a - b), rvs, `resourceVersions in order: ${rvs.join(', ')}`);
    assert.equal(new Set(rvs).size, rvs.length);
  });

  step('logs of a running pod: all lines, tail_lines=1 with timestamps=True, previous=True → 400', async () => {
    const applied = await srv.kubectl(['apply', '-f', '-'], { input: fixtureText('python/pod.yaml') });
    assert.equal(applied.code, 0, applied.stderr);
    const r = await run<{ node: string; full: string; tail_timestamps: string; previous: StatusSeen | string }>('logs', 'default', 'py-pod');
    assert.equal(r.node, 'py1');
    assert.equal(r.full, 'py-line-1\npy-line-2\npy-line-3\n');
    assert.match(r.tail_timestamps, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z py-line-3\n$/);
    const prev = assertStatus(r.previous, 400, 'BadRequest');
    assert.match(prev.body.message ?? '', /previous terminated container "main"/);
  });

  step('exec over the client\'s websocket stream: output, separate stdout/stderr, stdin, exit code 3', async () => {
    const r = await run<{ simple: string; stdout: string; stderr: string; returncode: number | null }>('exec', 'default', 'py-pod');
    assert.equal(r.simple, 'pod=py-pod\n');
    assert.equal(r.stdout, 'got hello-from-python\n');
    assert.equal(r.stderr, 'to-stderr\n');
    assert.equal(r.returncode, 3);
  });

  step('deleting the pod stops its process', async () => {
    const marker = `e2e-py-marker-${runId}`;
    assert.equal(processesWith(marker).length, 1, 'the pod\'s process runs before the delete');
    assert.deepEqual(await deleteWorkloads(srv), []);
    await waitFor('the pod\'s process to end', async () => (processesWith(marker).length === 0 ? true : undefined), 30_000);
  });
});
