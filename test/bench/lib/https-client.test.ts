import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseCredentials } from '../../../bench/lib/https-client.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('parseCredentials decodes the embedded admin credentials', () => {
  const kc = stringify({
    clusters: [{ name: 't', cluster: { server: 'https://127.0.0.9:6443', 'certificate-authority-data': b64('CA PEM') } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM') } }],
  });
  assert.deepEqual(parseCredentials(kc), { server: 'https://127.0.0.9:6443', ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
});

test('parseCredentials names what is missing', () => {
  const kc = stringify({ clusters: [{ cluster: { server: 'https://x' } }], users: [{ user: {} }] });
  assert.throws(() => parseCredentials(kc), /certificate-authority-data/);
});
