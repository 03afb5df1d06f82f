// The cluster PKI in DATA/tls: a self-signed CA and the API server's serving certificate,
// ECDSA P-256 throughout, made with @peculiar/x509 over Node's webcrypto (no openssl).
// Guarantees: the CA is generated once and then only ever reused (a present ca.crt without
// ca.key is an error, never a silent new CA that would orphan every issued credential);
// the serving certificate is reissued when it does not cover the requested SANs, is not
// signed by the CA, does not match its key, or expires within 30 days; private keys are
// written 0600 via a temp file + rename, so a crash never leaves a half-written key.
// Does not: rotate or renew the CA, keep a CRL/revocation list, or share the CA between
// servers itself (a joining server gets ca.crt/ca.key in its join bundle and writes them into
// DATA/tls before this runs: src/cluster/server-join.ts).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPublicKey, randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { TriremeError } from '../errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { readIfExists, writePrivateFile } from '../util/private-file.js';

// The library takes its provider from a global; Node's webcrypto is a complete implementation.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
const SERVER_DAYS = 365;
const CLIENT_DAYS = 365;
/** Renew anything we issue once it is this close to expiry. */
export const RENEW_BEFORE_MS = 30 * DAY_MS;
/** Certificates start this far in the past so nodes with slightly slow clocks accept them. */
const BACKDATE_MS = 60 * 60 * 1000;

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

export const CA_COMMON_NAME = 'trireme-ca';
export const SERVER_COMMON_NAME = 'trireme-apiserver';

/** Names every serving certificate carries, whatever the operator asks for. */
export const DEFAULT_SANS: readonly string[] = [
  'localhost',
  '127.0.0.1',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface ClientSubject {
  commonName: string;
  organizations: string[];
}

export interface Pki {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** True when this call (re)issued the serving certificate. */
  serverCertIssued: boolean;
  /** Issues a client certificate (ExtendedKeyUsage clientAuth) signed by the CA. */
  issueClientCert(subject: ClientSubject, days?: number): Promise<IssuedCert>;
  /** Issues a serving certificate (serverAuth) for these DNS names and IPs, e.g. a node agent's. */
  issueServingCert(commonName: string, sans: string[], days?: number): Promise<IssuedCert>;
}

export interface PkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export function pkiPaths(dataDir: string): PkiPaths {
  const dir = join(dataDir, 'tls');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

/** SHA-256 of the certificate's DER encoding, lowercase hex (what join tokens pin). */
export function caFingerprint(caCertPem: string): string {
  return createHash('sha256').update(new NodeX509(caCertPem).raw).digest('hex');
}

export { writePrivateFile };

/** A SAN in comparable form: IPs canonical (so `::1` equals `0:0::1`), DNS names lowercase. */
interface San {
  type: 'dns' | 'ip';
  value: string;
}

function canonicalIp(ip: string): string {
  const v6 = isIP(ip) === 6;
  const host = new URL(`http://${v6 ? `[${ip}]` : ip}/`).hostname;
  return v6 ? host.slice(1, -1) : host;
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export function parseSan(raw: string): San {
  const s = raw.trim();
  if (isIP(s) !== 0) return { type: 'ip', value: canonicalIp(s) };
  const dns = s.toLowerCase().replace(/\.$/, '');
  if (!DNS_NAME.test(dns)) {
    throw new TriremeError('Invalid', `not a DNS name or IP address: ${JSON.stringify(raw)}`, { context: { san: raw } });
  }
  return { type: 'dns', value: dns };
}

function sanKey(s: San): string {
  return `${s.type}:${s.value}`;
}

/** The requested SANs plus the defaults, deduplicated, in a stable order. */
export function wantedSans(requested: readonly string[]): San[] {
  const out = new Map<string, San>();
  for (const raw of [...requested, ...DEFAULT_SANS]) {
    const s = parseSan(raw);
    out.set(sanKey(s), s);
  }
  return [...out.values()];
}

/** The DNS and IP SANs a certificate carries, canonicalised like `parseSan`. */
export function certSans(certPem: string): San[] {
  const ext = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  const out: San[] = [];
  for (const n of ext.names.toJSON()) {
    if (n.type === 'dns') out.push({ type: 'dns', value: n.value.toLowerCase() });
    else if (n.type === 'ip') out.push({ type: 'ip', value: canonicalIp(n.value) });
  }
  return out;
}

async function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importSigningKey(pem: string): Promise<webcrypto.CryptoKey> {
  try {
    return await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), KEY_ALG, false, ['sign']);
  } catch (e) {
    throw new TriremeError('Invalid', 'CA key is not a PKCS#8 ECDSA P-256 key', { cause: e });
  }
}

/** Positive 128-bit serial (top bit cleared so DER does not read it as negative). */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function validity(now: number, days: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

interface CaMaterial {
  cert: x509.X509Certificate;
  key: webcrypto.CryptoKey;
}

async function generateCa(now: number): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [CA_COMMON_NAME] }],
    ...validity(now, CA_DAYS),
    keys,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

async function issueLeaf(
  ca: CaMaterial,
  p: { subject: x509.JsonName; days: number; now: number; usages: x509.ExtendedKeyUsageType[]; sans?: San[] },
): Promise<IssuedCert> {
  const keys = await generateKeyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(p.usages),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (p.sans && p.sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(p.sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: p.subject,
    issuer: ca.cert.subjectName,
    ...validity(p.now, p.days),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: SIGNING_ALG,
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** Subject with CN and one RDN per organization, so Node reports O as a list. */
function subjectName(commonName: string, organizations: readonly string[]): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

/** Why an existing certificate must be replaced, or undefined when it is still good. */
export async function leafProblem(
  certPem: string,
  keyPem: string,
  caCertPem: string,
  now: number,
  mustCover: readonly San[] = [],
): Promise<string | undefined> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch {
    return 'certificate does not parse';
  }
  const ca = new x509.X509Certificate(caCertPem);
  if (!(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }))) return 'not signed by the cluster CA';
  if (cert.notBefore.getTime() > now) return 'not yet valid';
  if (cert.notAfter.getTime() - now < RENEW_BEFORE_MS) return 'expires within 30 days';
  try {
    const spki = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    if (!spki.equals(Buffer.from(cert.publicKey.rawData))) return 'key does not match certificate';
  } catch {
    return 'key does not parse';
  }
  const have = new Set(certSans(certPem).map(sanKey));
  const missing = mustCover.filter((s) => !have.has(sanKey(s)));
  if (missing.length > 0) return `missing SANs ${missing.map((s) => s.value).join(', ')}`;
  return undefined;
}

async function loadOrCreateCa(paths: PkiPaths, now: number): Promise<{ certPem: string; keyPem: string }> {
  const certPem = await readIfExists(paths.caCert);
  if (certPem !== undefined) {
    const keyPem = await readIfExists(paths.caKey);
    if (keyPem === undefined) {
      throw new TriremeError('Invalid', `${paths.caCert} exists but ${paths.caKey} is missing; restore the CA key (a new CA would invalidate every issued credential)`, { context: { path: paths.caKey } });
    }
    return { certPem, keyPem };
  }
  // ca.crt is written last, so a missing ca.crt means no CA was ever completed: a stray
  // ca.key from an interrupted first start is overwritten.
  const made = await generateCa(now);
  await writePrivateFile(paths.caKey, made.keyPem);
  await writePrivateFile(paths.caCert, made.certPem, 0o644);
  return made;
}

/** Loads the cluster PKI from DATA/tls, creating or renewing what is missing or stale. */
export async function ensurePki(dataDir: string, opts: { sans: string[]; clock?: Clock }): Promise<Pki> {
  const clock = opts.clock ?? systemClock;
  const paths = pkiPaths(dataDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const sans = wantedSans(opts.sans);

  const caPems = await loadOrCreateCa(paths, clock.now());
  const ca: CaMaterial = { cert: new x509.X509Certificate(caPems.certPem), key: await importSigningKey(caPems.keyPem) };

  let serverCertPem = await readIfExists(paths.serverCert);
  let serverKeyPem = await readIfExists(paths.serverKey);
  let serverCertIssued = false;
  const stale = serverCertPem === undefined || serverKeyPem === undefined
    ? 'missing'
    : await leafProblem(serverCertPem, serverKeyPem, caPems.certPem, clock.now(), sans);
  if (stale !== undefined) {
    // Keep the SANs an old certificate had, so adding a name never drops one clients use.
    const previous = serverCertPem === undefined ? [] : safeCertSans(serverCertPem);
    const all = new Map<string, San>([...previous, ...sans].map((s) => [sanKey(s), s]));
    const issued = await issueLeaf(ca, {
      subject: subjectName(SERVER_COMMON_NAME, []),
      days: SERVER_DAYS,
      now: clock.now(),
      usages: [x509.ExtendedKeyUsage.serverAuth],
      sans: [...all.values()],
    });
    await writePrivateFile(paths.serverKey, issued.keyPem);
    await writePrivateFile(paths.serverCert, issued.certPem, 0o644);
    serverCertPem = issued.certPem;
    serverKeyPem = issued.keyPem;
    serverCertIssued = true;
  }

  return {
    caCertPem: caPems.certPem,
    caKeyPem: caPems.keyPem,
    serverCertPem: serverCertPem!,
    serverKeyPem: serverKeyPem!,
    serverCertIssued,
    issueClientCert: (subject, days = CLIENT_DAYS) => {
      if (subject.commonName === '') throw new TriremeError('Invalid', 'client certificate needs a common name');
      return issueLeaf(ca, {
        subject: subjectName(subject.commonName, subject.organizations),
        days,
        now: clock.now(),
        usages: [x509.ExtendedKeyUsage.clientAuth],
      });
    },
    issueServingCert: (commonName, names, days = SERVER_DAYS) => issueLeaf(ca, {
      subject: subjectName(commonName, []),
      days,
      now: clock.now(),
      usages: [x509.ExtendedKeyUsage.serverAuth],
      sans: names.map(parseSan),
    }),
  };
}

/** What a certificate issued by `issueFromCa` is for (its ExtendedKeyUsage). */
export type CertUsage = 'serverAuth' | 'clientAuth';

/**
 * Issues a certificate signed by the given CA with any mix of usages (an etcd peer certificate
 * serves and dials, so it needs both). Keeps the one CA: callers pass the cluster CA's PEMs.
 */
export async function issueFromCa(
  caPems: { caCertPem: string; caKeyPem: string },
  p: { commonName: string; organizations?: string[]; sans?: string[]; usages: CertUsage[]; days?: number; clock?: Clock },
): Promise<IssuedCert> {
  if (p.commonName === '') throw new TriremeError('Invalid', 'certificate needs a common name');
  const ca: CaMaterial = { cert: new x509.X509Certificate(caPems.caCertPem), key: await importSigningKey(caPems.caKeyPem) };
  return issueLeaf(ca, {
    subject: subjectName(p.commonName, p.organizations ?? []),
    days: p.days ?? SERVER_DAYS,
    now: (p.clock ?? systemClock).now(),
    usages: p.usages.map((u) => x509.ExtendedKeyUsage[u]),
    sans: (p.sans ?? []).map(parseSan),
  });
}

function safeCertSans(certPem: string): San[] {
  try {
    return certSans(certPem);
  } catch {
    return [];
  }
}
