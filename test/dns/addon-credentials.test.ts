import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, type Pki } from '../../src/apiserver/pki.js';
import { renderKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { dnsSecret } from '../../src/dns/addon/manifests.js';
import { kubeconfigProblem } from '../../src/dns/addon/reconciler.js';

describe('the DNS replicas\' kubeconfig Secret', () => {
  let dirs: string[] = [];
  let pki: Pki;
  let other: Pki;
  const now = Date.now();
  before(async () => {
    dirs = [mkdtempSync(join(tmpdir(), 'dns-pki-')), mkdtempSync(join(tmpdir(), 'dns-pki-'))];
    pki = await ensurePki(dirs[0]!, { sans: [] });
    other = await ensurePki(dirs[1]!, { sans: [] });
  });
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  const secretFrom = async (from: Pki, server = 'https://127.0.24.1:6443') => {
    const cert = await from.issueClientCert({ commonName: 'system:trireme-dns', organizations: ['trireme:dns'] });
    return dnsSecret(renderKubeconfig({ serverUrl: server, caCertPem: from.caCertPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem }));
  };

  it('usable: our CA, a fresh certificate, a published server (or no list to check against)', async () => {
    const s = await secretFrom(pki);
    assert.equal(await kubeconfigProblem(s, pki.caCertPem, now, ['https://127.0.24.1:6443', 'https://127.0.24.5:6443']), undefined);
    assert.equal(await kubeconfigProblem(s, pki.caCertPem, now, []), undefined);
  });

  it('unusable: another CA, expiring, a server no longer published, no kubeconfig at all', async () => {
    assert.match((await kubeconfigProblem(await secretFrom(other), pki.caCertPem, now, []))!, /another CA/);
    assert.match((await kubeconfigProblem(await secretFrom(pki), pki.caCertPem, now + 340 * 86_400_000, []))!, /expires within 30 days/);
    assert.match((await kubeconfigProblem(await secretFrom(pki), pki.caCertPem, now, ['https://127.0.24.5:6443']))!, /no longer a published API server/);
    assert.match((await kubeconfigProblem({ data: {} }, pki.caCertPem, now, []))!, /no kubeconfig key/);
  });
});
