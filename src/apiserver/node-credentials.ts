// Credentials for a joining node: a client certificate naming it (`system:node:<name>`, group
// `system:nodes`) and a serving certificate for its agent API, both signed by the cluster CA.
// Only callers holding the join token reach this (authorization: system:bootstrappers).
import { isIP } from 'node:net';
import { TriremeError } from '../errors.js';
import { isDns1123Subdomain } from '../api/validation/index.js';
import type { NodeCredentials } from '../api/join.js';
import type { Pki } from './pki.js';

export type { NodeCredentials };

export async function issueNodeCredentials(pki: Pki, request: unknown): Promise<NodeCredentials> {
  const r = (request ?? {}) as { nodeName?: unknown; nodeIp?: unknown };
  if (typeof r.nodeName !== 'string' || !isDns1123Subdomain(r.nodeName)) {
    throw new TriremeError('BadRequest', `nodeName must be a DNS-1123 subdomain, got ${JSON.stringify(r.nodeName)}`);
  }
  if (typeof r.nodeIp !== 'string' || isIP(r.nodeIp) === 0) throw new TriremeError('BadRequest', `nodeIp must be an IP address, got ${JSON.stringify(r.nodeIp)}`);
  const client = await pki.issueClientCert({ commonName: `system:node:${r.nodeName}`, organizations: ['system:nodes'] });
  const serving = await pki.issueServingCert(r.nodeName, [r.nodeIp, r.nodeName, 'localhost', '127.0.0.1']);
  return { caPem: pki.caCertPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem, servingCertPem: serving.certPem, servingKeyPem: serving.keyPem };
}
