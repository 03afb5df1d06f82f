// Leader-elected components are fenced always, over HTTPS against a real in-process API server:
// a write by the controller-manager or scheduler identity without X-Trireme-Fence is a 403
// Status naming the rule (nothing stored), its Lease writes (the election itself) go through,
// and the same write with a valid fence is accepted. Other users are unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startTestApiServer } from '../helpers/api-server.js';
import { ApiClient } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { TriremeError } from '../../src/errors.js';

type Obj = ConfigMap & { [k: string]: unknown };
const configmaps = resource('', 'configmaps');
const leases = resource('coordination.k8s.io', 'leases');

test('an unfenced write by a leader-elected identity is 403; Lease writes and fenced writes are allowed', async () => {
  const api = await startTestApiServer('127.0.3.1');
  const clients: ApiClient[] = [];
  try {
    for (const user of ['system:kube-controller-manager', 'system:kube-scheduler']) {
      const cert = await api.server.pki.issueClientCert({ commonName: user, organizations: ['system:masters'] });
      const client = new ApiClient({ server: api.server.url, caPem: api.server.pki.caCertPem, certPem: cert.certPem, keyPem: cert.keyPem });
      clients.push(client);
      const name = user.replace(/[^a-z]/g, '-');
      await assert.rejects(client.create<Obj>(configmaps, 'default', { metadata: { name } }), (err: unknown) => {
        assert.ok(err instanceof TriremeError);
        assert.equal(err.code, 'Forbidden');
        assert.equal((err.context as { httpCode?: number }).httpCode, 403);
        assert.match(err.message, new RegExp(`User "${user}" is a leader-elected component and may write only with a valid X-Trireme-Fence header \\(rule: leader-elected components are always fenced`));
        return true;
      });
      await assert.rejects(api.client.get<Obj>(configmaps, 'default', name), (e: unknown) => e instanceof TriremeError && e.code === 'NotFound');
      // Reads are never fenced.
      assert.ok(Array.isArray((await client.list<Obj>(configmaps, 'default')).items));
      // The election itself: Lease writes without a fence.
      const lease = await client.create<Obj>(leases, 'kube-system', { metadata: { name }, spec: { holderIdentity: `${name}_1`, leaseTransitions: 0, leaseDurationSeconds: 2 } } as Obj);
      // With a valid fence the same write goes through.
      client.setFence({ lease: { namespace: 'kube-system', name }, identity: `${name}_1`, transitions: 0 });
      await client.create<Obj>(configmaps, 'default', { metadata: { name } });
      assert.equal((await api.client.get<Obj>(configmaps, 'default', name)).metadata?.name, name);
      // With a stale one it is a 409.
      client.setFence({ lease: { namespace: 'kube-system', name }, identity: `${name}_0`, transitions: 0 });
      await assert.rejects(client.delete(configmaps, 'default', name), (e: unknown) => e instanceof TriremeError && e.code === 'Conflict' && /^fenced: /.test(e.message));
      assert.ok(lease.metadata?.resourceVersion);
    }
    // The admin (and every other user) writes without a fence as before.
    await api.client.create<Obj>(configmaps, 'default', { metadata: { name: 'by-admin' } });
  } finally {
    for (const c of clients) c.close();
    await api.close();
  }
});
