// The managed etcd member's certificates, all signed by the one cluster CA (DATA/tls, see
// src/apiserver/pki.ts), kept under DATA/etcd/tls:
//   ca.crt                  the cluster CA certificate (etcd --trusted-ca-file, --peer-trusted-ca-file)
//   server.crt / server.key client-facing serving certificate (serverAuth + clientAuth: etcd's own
//                           gRPC gateway dials the member with it when client-cert-auth is on)
//   peer.crt / peer.key     peer certificate (serverAuth + clientAuth: a peer both serves and dials)
//   client.crt / client.key the client certificate this server's store and admin calls use
//                           (CN trireme-etcd-client, clientAuth)
// Guarantees: keys are written 0600 and certificates 0644 via write-then-rename; a certificate is
// reissued when it is missing, not signed by the given CA, does not match its key, expires within
// 30 days, or its SANs differ from the member's IP + 127.0.0.1 + localhost (exactly: a changed IP
// drops the old one); ca.crt is rewritten when the CA changed.
// Does not: make a CA (the caller passes the cluster CA), revoke anything, or restart etcd when a
// certificate changes (etcd reads them at start).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { certSans, issueFromCa, leafProblem, parseSan, type CertUsage } from '../apiserver/pki.js';
import { systemClock, type Clock } from '../util/clock.js';
import { readIfExists, writePrivateFile } from '../util/private-file.js';
import { etcdPaths } from './paths.js';

export const ETCD_CLIENT_COMMON_NAME = 'trireme-etcd-client';

/** PEMs for a TLS client of the member (EtcdStoreOptions.tls and the membership client take it). */
export interface EtcdClientTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface EtcdTls {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  peerCertFile: string;
  peerKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  client: EtcdClientTls;
}

function sameSans(certPem: string, want: readonly string[]): boolean {
  const have = new Set(certSans(certPem).map((s) => `${s.type}:${s.value}`));
  const wanted = new Set(want.map(parseSan).map((s) => `${s.type}:${s.value}`));
  return have.size === wanted.size && [...wanted].every((k) => have.has(k));
}

/** The SANs of a member's serving and peer certificates. */
export function memberSans(ip: string): string[] {
  return [...new Set([ip, '127.0.0.1', 'localhost'].map((s) => parseSan(s).value))];
}

interface Leaf {
  certFile: string;
  keyFile: string;
  commonName: string;
  usages: CertUsage[];
  sans: string[] | undefined;
}

async function ensureLeaf(ca: { caCertPem: string; caKeyPem: string }, leaf: Leaf, clock: Clock): Promise<{ certPem: string; keyPem: string }> {
  const certPem = await readIfExists(leaf.certFile);
  const keyPem = await readIfExists(leaf.keyFile);
  if (certPem !== undefined && keyPem !== undefined) {
    const problem = await leafProblem(certPem, keyPem, ca.caCertPem, clock.now());
    if (problem === undefined && (leaf.sans === undefined || sameSans(certPem, leaf.sans))) return { certPem, keyPem };
  }
  const issued = await issueFromCa(ca, { commonName: leaf.commonName, sans: leaf.sans, usages: leaf.usages, clock });
  await writePrivateFile(leaf.keyFile, issued.keyPem);
  await writePrivateFile(leaf.certFile, issued.certPem, 0o644);
  return issued;
}

/**
 * Makes sure DATA/etcd/tls holds current certificates for `member` from the cluster CA (a Pki
 * from ensurePki, or just its CA PEMs) and returns their paths and the client PEMs.
 */
export async function ensureEtcdTls(
  dataDir: string,
  ca: { caCertPem: string; caKeyPem: string },
  member: { name: string; ip: string },
  opts: { clock?: Clock } = {},
): Promise<EtcdTls> {
  const clock = opts.clock ?? systemClock;
  const dir = etcdPaths(dataDir).tls;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.crt');
  if ((await readIfExists(caFile)) !== ca.caCertPem) await writePrivateFile(caFile, ca.caCertPem, 0o644);
  const sans = memberSans(member.ip);
  const file = (n: string): string => join(dir, n);
  await ensureLeaf(ca, { certFile: file('server.crt'), keyFile: file('server.key'), commonName: member.name, usages: ['serverAuth', 'clientAuth'], sans }, clock);
  await ensureLeaf(ca, { certFile: file('peer.crt'), keyFile: file('peer.key'), commonName: member.name, usages: ['serverAuth', 'clientAuth'], sans }, clock);
  const client = await ensureLeaf(ca, { certFile: file('client.crt'), keyFile: file('client.key'), commonName: ETCD_CLIENT_COMMON_NAME, usages: ['clientAuth'], sans: undefined }, clock);
  return {
    caFile,
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    peerCertFile: file('peer.crt'),
    peerKeyFile: file('peer.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    client: { caPem: ca.caCertPem, certPem: client.certPem, keyPem: client.keyPem },
  };
}
