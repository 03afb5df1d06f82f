import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { credentialsOf } from '../../../bench/lib/https-client.js';
import { parseKubeconfig } from '../../../src/client/config.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('credentialsOf takes the embedded admin credentials of the current context', () => {
  const kc = stringify({
    clusters: [{ name: 't', cluster: { server: 'https://127.0.0.9:6443', 'certificate-authority-data': b64('CA PEM') } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM') } }],
    contexts: [{ name: 't', context: { cluster: 't', user: 'admin' } }],
    'current-context': 't',
  });
  assert.deepEqual(credentialsOf(parseKubeconfig(kc, '/tmp/kc.yaml')), { server: 'https://127.0.0.9:6443', ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
});

test('the kubeconfig reader names what is missing', () => {
  const kc = stringify({
    clusters: [{ name: 't', cluster: { server: 'https://x' } }], users: [{ name: 'u', user: {} }],
    contexts: [{ name: 't', context: { cluster: 't', user: 'u' } }], 'current-context': 't',
  });
  assert.throws(() => parseKubeconfig(kc, '/tmp/kc.yaml'), /certificate authority/);
  const noCert = stringify({
    clusters: [{ name: 't', cluster: { server: 'https://x', 'certificate-authority-data': b64('CA') } }], users: [{ name: 'u', user: {} }],
    contexts: [{ name: 't', context: { cluster: 't', user: 'u' } }], 'current-context': 't',
  });
  assert.throws(() => credentialsOf(parseKubeconfig(noCert, '/tmp/kc.yaml')), /no client certificate/);
});
