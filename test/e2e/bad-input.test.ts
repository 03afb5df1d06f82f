// End-to-end: bad requests get the right Kubernetes `Status` error and change nothing.
// Raw HTTPS (Node's https with the admin client certificate of the kubeconfig the server
// writes), so the requests are exactly what we say, not what a client library would fix up.
// After each case the test checks that no object was stored and that the server still answers.
// Does not cover: authorization (roles), admission webhooks, rate limiting.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, killAll, type ServerHandle, type RawResponse, type RawRequest } from './harness.js';

interface Status {
  kind?: string;
  apiVersion?: string;
  status?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: { reason?: string; field?: string; message?: string }[] };
}

interface ConfigMap {
  metadata: { name: string; resourceVersion?: string };
  data?: Record<string, string>;
}

const CMS = '/api/v1/namespaces/default/configmaps';
const STEP = { timeout: 60_000 };

function parseJson<T>(res: RawResponse): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    assert.fail(`response ${res.status} is not JSON: ${res.text.slice(0, 500)}`);
  }
}

/** Asserts a Kubernetes Failure Status with this HTTP code and reason. */
function assertStatus(res: RawResponse, code: number, reason: string): Status {
  assert.equal(res.status, code, `HTTP ${res.status}, body ${res.text.slice(0, 500)}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const s = parseJson<Status>(res);
  assert.equal(s.kind, 'Status');
  assert.equal(s.apiVersion, 'v1');
  assert.equal(s.status, 'Failure');
  assert.equal(s.code, code);
  assert.equal(s.reason, reason);
  assert.ok(typeof s.message === 'string' && s.message.length > 0, 'Status without a message');
  return s;
}

const cm = (name: string, data: Record<string, string> = { a: 'b' }): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

describe('bad input gets a Status and changes nothing', { timeout: 10 * 60_000 }, () => {
  let srv: ServerHandle;
  const req = (path: string, opts: RawRequest = {}): Promise<RawResponse> => srv.request(path, opts);
  const post = (path: string, body: string | Buffer, contentType = 'application/json'): Promise<RawResponse> =>
    req(path, { method: 'POST', body, headers: { 'Content-Type': contentType } });

  /** No object `name` at `collection`, neither by GET nor in the list; the server still serves. */
  async function assertAbsent(collection: string, name: string): Promise<void> {
    assertStatus(await req(`${collection}/${name}`), 404, 'NotFound');
    const list = await req(collection);
    assert.equal(list.status, 200, list.text);
    const names = parseJson<{ items: ConfigMap[] }>(list).items.map((i) => i.metadata.name);
    assert.ok(!names.includes(name), `${name} is listed in ${collection}`);
  }

  async function assertAlive(): Promise<void> {
    const ready = await srv.request('/readyz', { auth: false });
    assert.equal(ready.status, 200, `readyz: ${ready.status} ${ready.text}`);
    const ns = await req('/api/v1/namespaces/default');
    assert.equal(ns.status, 200, `GET namespace default: ${ns.status} ${ns.text}`);
  }

  const step = (name: string, fn: () => Promise<void>): void => {
    it(name, STEP, () =>
      srv.guard(async () => {
        await fn();
        await assertAlive();
      }),
    );
  };

  before(async () => {
    srv = await startServer({ host: '127.0.0.4' });
  });
  after(async () => {
    await srv?.dispose();
    killAll();
  });

  step('malformed JSON → 400 BadRequest', async () => {
    const res = await post(CMS, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad-json"},"data":{"a":');
    assertStatus(res, 400, 'BadRequest');
    await assertAbsent(CMS, 'bad-json');
  });

  step('malformed YAML (application/yaml) → 400 BadRequest', async () => {
    const res = await post(CMS, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad-yaml\ndata: {a: [1, 2\n', 'application/yaml');
    assertStatus(res, 400, 'BadRequest');
    await assertAbsent(CMS, 'bad-yaml');
  });

  step('well-formed YAML (application/yaml) is accepted: the control case', async () => {
    const res = await post(CMS, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good-yaml\ndata:\n  a: b\n', 'application/yaml');
    assert.equal(res.status, 201, res.text);
    const got = parseJson<ConfigMap>(await req(`${CMS}/good-yaml`));
    assert.deepEqual(got.data, { a: 'b' });
  });

  step('a ConfigMap POSTed to secrets → 400 BadRequest', async () => {
    const res = await post('/api/v1/namespaces/default/secrets', cm('wrong-kind'));
    assertStatus(res, 400, 'BadRequest');
    await assertAbsent('/api/v1/namespaces/default/secrets', 'wrong-kind');
    await assertAbsent(CMS, 'wrong-kind');
  });

  step('invalid name Bad_Name → 422 Invalid with field causes', async () => {
    const res = await post(CMS, cm('Bad_Name'));
    const s = assertStatus(res, 422, 'Invalid');
    assert.equal(s.details?.name, 'Bad_Name');
    assert.equal(s.details?.kind, 'ConfigMap');
    const causes = s.details?.causes ?? [];
    assert.ok(causes.some((c) => c.field === 'metadata.name' && c.reason === 'FieldValueInvalid'), `causes: ${JSON.stringify(causes)}`);
    const list = parseJson<{ items: ConfigMap[] }>(await req(CMS));
    assert.ok(!list.items.some((i) => i.metadata.name === 'Bad_Name'), 'Bad_Name was stored');
  });

  step('a body over 3 MiB → 413 RequestEntityTooLarge', async () => {
    const big = cm('too-big', { blob: 'x'.repeat(3 * 1024 * 1024 + 1024) });
    const res = await post(CMS, big);
    assertStatus(res, 413, 'RequestEntityTooLarge');
    await assertAbsent(CMS, 'too-big');
  });

  step('unknown field with fieldValidation=Strict → 400 naming the field', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict-cm' }, data: { a: 'b' }, bogusField: 1 });
    const res = await post(`${CMS}?fieldValidation=Strict`, body);
    const s = assertStatus(res, 400, 'BadRequest');
    assert.match(s.message ?? '', /bogusField/);
    await assertAbsent(CMS, 'strict-cm');
  });

  step('unknown field with fieldValidation=Ignore is dropped: the control case', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ignore-cm' }, data: { a: 'b' }, bogusField: 1 });
    const res = await post(`${CMS}?fieldValidation=Ignore`, body);
    assert.equal(res.status, 201, res.text);
    assert.equal((parseJson<Record<string, unknown>>(res)).bogusField, undefined);
  });

  step('unknown patch content type → 415 UnsupportedMediaType', async () => {
    const created = await post(CMS, cm('patch-target', { a: 'b' }));
    assert.equal(created.status, 201, created.text);
    const before = parseJson<ConfigMap>(created);
    const res = await req(`${CMS}/patch-target`, { method: 'PATCH', body: '{"data":{"a":"changed"}}', headers: { 'Content-Type': 'application/x-unknown-patch' } });
    assertStatus(res, 415, 'UnsupportedMediaType');
    const after = parseJson<ConfigMap>(await req(`${CMS}/patch-target`));
    assert.deepEqual(after.data, { a: 'b' });
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  step('missing credentials → 401 Unauthorized', async () => {
    assertStatus(await req('/api/v1/namespaces', { auth: false }), 401, 'Unauthorized');
    const res = await req(CMS, { method: 'POST', body: cm('anonymous'), headers: { 'Content-Type': 'application/json' }, auth: false });
    assertStatus(res, 401, 'Unauthorized');
    await assertAbsent(CMS, 'anonymous');
  });

  step('stale resourceVersion on PUT → 409 Conflict', async () => {
    const v1 = parseJson<ConfigMap>(await post(CMS, cm('stale', { n: '1' })));
    const put = (o: ConfigMap, n: string): Promise<RawResponse> =>
      req(`${CMS}/stale`, { method: 'PUT', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: o.metadata, data: { n } }), headers: { 'Content-Type': 'application/json' } });
    const ok = await put(v1, '2');
    assert.equal(ok.status, 200, ok.text);
    const v2 = parseJson<ConfigMap>(ok);
    const s = assertStatus(await put(v1, '3'), 409, 'Conflict');
    assert.equal(s.details?.name, 'stale');
    const now = parseJson<ConfigMap>(await req(`${CMS}/stale`));
    assert.deepEqual(now.data, { n: '2' });
    assert.equal(now.metadata.resourceVersion, v2.metadata.resourceVersion);
  });

  step('GET a missing object → 404 NotFound', async () => {
    const s = assertStatus(await req(`${CMS}/no-such-thing`), 404, 'NotFound');
    assert.equal(s.details?.name, 'no-such-thing');
    assert.equal(s.details?.kind, 'configmaps');
  });

  step('duplicate create → 409 AlreadyExists', async () => {
    const first = await post(CMS, cm('dup', { v: 'first' }));
    assert.equal(first.status, 201, first.text);
    const s = assertStatus(await post(CMS, cm('dup', { v: 'second' })), 409, 'AlreadyExists');
    assert.equal(s.details?.name, 'dup');
    const now = parseJson<ConfigMap>(await req(`${CMS}/dup`));
    assert.deepEqual(now.data, { v: 'first' });
    assert.equal(now.metadata.resourceVersion, parseJson<ConfigMap>(first).metadata.resourceVersion);
  });

  step('a malformed integer query parameter → 400 BadRequest naming it; the delete does not happen', async () => {
    const created = await post(CMS, cm('int-param', { a: 'b' }));
    assert.equal(created.status, 201, created.text);
    const del = assertStatus(await req(`${CMS}/int-param?gracePeriodSeconds=soon`, { method: 'DELETE' }), 400, 'BadRequest');
    assert.match(del.message ?? '', /gracePeriodSeconds.*"soon"/);
    assert.equal((await req(`${CMS}/int-param`)).status, 200, 'the object was deleted anyway');
    assert.match(assertStatus(await req(`${CMS}?limit=ten`), 400, 'BadRequest').message ?? '', /limit.*"ten"/);
    assert.match(assertStatus(await req(`${CMS}?watch=true&timeoutSeconds=1.5`), 400, 'BadRequest').message ?? '', /timeoutSeconds.*"1.5"/);
  });

  step('booleans decode as Kubernetes decodes them: watch=True watches, watch=False and watch=0 list', async () => {
    const created = await post(CMS, cm('bool-param', { a: 'b' }));
    assert.equal(created.status, 201, created.text);
    for (const v of ['False', '0', 'false']) {
      const list = await req(`${CMS}?watch=${v}`);
      assert.equal(list.status, 200, list.text);
      assert.equal(parseJson<{ kind: string }>(list).kind, 'ConfigMapList', `watch=${v}`);
    }
    // resourceVersion=0: the watch starts with ADDED for what exists; the server ends it after 1 s.
    const watched = await req(`${CMS}?watch=True&resourceVersion=0&timeoutSeconds=1`, { timeoutMs: 10_000 });
    assert.equal(watched.status, 200, watched.text);
    const events = watched.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: ConfigMap });
    assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'bool-param'), watched.text.slice(0, 500));
  });
});
