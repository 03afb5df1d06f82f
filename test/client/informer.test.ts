// The informer's first sync can fail, against a real API server: a list refused for good
// (401 with a bad token, 404 for a resource that does not exist, 400 for a bad field selector)
// rejects start() with the server's code and stops the informer; an unreachable server is
// retried until syncTimeoutMs, then start() rejects with Timeout naming the last error; stop()
// before the first list rejects too; and a good list still resolves.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { ApiClient } from '../../src/client/api-client.js';
import { Informer } from '../../src/client/informer.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';
import type { KubeObject } from '../../src/api/object.js';

const CM = resource('', 'configmaps');

describe('informer first sync', { timeout: 30_000 }, () => {
  let api: TestApiServer;
  const clients: ApiClient[] = [];
  before(async () => { api = await startTestApiServer(); });
  after(async () => {
    for (const c of clients) c.close();
    await api.close();
  });

  it('resolves on a good list', async () => {
    const inf = new Informer<KubeObject>(api.client, CM, { syncTimeoutMs: 10_000 });
    await inf.start();
    assert.equal(inf.synced, true);
    inf.stop();
  });

  it('rejects with Unauthorized for a bad token, without retrying', async () => {
    const bad = new ApiClient({ server: api.client.config.server, caPem: api.client.config.caPem, token: 'not-a-token' });
    clients.push(bad);
    const inf = new Informer<KubeObject>(bad, CM);
    await assert.rejects(inf.start(), (e) => isTriremeError(e, 'Unauthorized') && /informer for configmaps: first list failed/.test(e.message));
  });

  it('rejects with NotFound for a resource the server does not serve', async () => {
    const inf = new Informer<KubeObject>(api.client, { ...CM, group: 'example.com', resource: 'widgets', kind: 'Widget', listKind: 'WidgetList' });
    await assert.rejects(inf.start(), (e) => isTriremeError(e, 'NotFound') && /widgets\.example\.com/.test(e.message));
  });

  it('rejects with BadRequest for a field selector the server refuses', async () => {
    const inf = new Informer<KubeObject>(api.client, CM, { fieldSelector: 'no-such-field=1' });
    await assert.rejects(inf.start(), (e) => isTriremeError(e, 'BadRequest') || isTriremeError(e, 'Invalid'));
  });

  it('retries an unreachable server, then rejects with Timeout naming the last error', async () => {
    // A port that refuses connections: bound, then closed.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const down = new ApiClient({ ...api.client.config, server: `https://127.0.0.1:${port}` });
    clients.push(down);
    const inf = new Informer<KubeObject>(down, CM, { syncTimeoutMs: 1500, maxBackoffMs: 200 });
    await assert.rejects(inf.start(), (e) => isTriremeError(e, 'Timeout') && /no first list within 1500 ms; last error: .*ECONNREFUSED/.test(e.message));
  });

  it('rejects when stopped before the first list', async () => {
    const inf = new Informer<KubeObject>(api.client, CM);
    const p = inf.start();
    inf.stop();
    await assert.rejects(p, (e) => isTriremeError(e) && e.context.stopped === true);
  });
});
