// Kubeconfig files: a pure renderer (one cluster, one user, one context, credentials
// embedded as base64 data) and the admin kubeconfig written to DATA/kubeconfig.yaml.
// Guarantees: the admin file is 0600, written atomically, and kept as-is across starts
// while it still points at the same server URL, trusts the current CA, and holds a client
// certificate from that CA that matches its key and is not within 30 days of expiry.
// Does not: merge into ~/.kube/config, or revoke the certificate of a replaced file.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { parseKubeconfig } from '../client/config.js';
import { systemClock, type Clock } from '../util/clock.js';
import { MASTERS_GROUP } from './auth.js';
import { caFingerprint, leafProblem, writePrivateFile, type Pki } from './pki.js';

export const ADMIN_USER = 'admin';
export const CLUSTER_NAME = 'trireme';

export interface KubeconfigSpec {
  serverUrl: string;
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  clusterName?: string;
  userName?: string;
  contextName?: string;
  namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** A kubeconfig (YAML) for one cluster and one certificate-authenticated user. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const cluster = spec.clusterName ?? CLUSTER_NAME;
  const user = spec.userName ?? ADMIN_USER;
  const context = spec.contextName ?? cluster;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: spec.serverUrl, 'certificate-authority-data': b64(spec.caCertPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(spec.clientCertPem), 'client-key-data': b64(spec.clientKeyPem) } }],
    contexts: [{ name: context, context: { cluster, user, ...(spec.namespace ? { namespace: spec.namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  });
}

export function adminKubeconfigPath(dataDir: string): string {
  return join(dataDir, 'kubeconfig.yaml');
}

async function existingIsValid(path: string, serverUrl: string, caCertPem: string, now: number): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    const cur = parseKubeconfig(text, path);
    if (cur.server !== serverUrl || !cur.certPem || !cur.keyPem) return false;
    if (caFingerprint(cur.caPem) !== caFingerprint(caCertPem)) return false;
    return (await leafProblem(cur.certPem, cur.keyPem, caCertPem, now)) === undefined;
  } catch {
    return false; // unparsable YAML, no such context, or bad certificates: replace the file
  }
}

/** Writes DATA/kubeconfig.yaml for the cluster admin (unless a valid one is there); returns its path. */
export async function writeAdminKubeconfig(dataDir: string, opts: { serverUrl: string; pki: Pki; clock?: Clock }): Promise<string> {
  const path = adminKubeconfigPath(dataDir);
  const now = (opts.clock ?? systemClock).now();
  if (await existingIsValid(path, opts.serverUrl, opts.pki.caCertPem, now)) return path;
  const client = await opts.pki.issueClientCert({ commonName: ADMIN_USER, organizations: [MASTERS_GROUP] });
  const text = renderKubeconfig({
    serverUrl: opts.serverUrl,
    caCertPem: opts.pki.caCertPem,
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
  });
  await writePrivateFile(path, text);
  return path;
}
