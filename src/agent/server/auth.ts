// Who may call the kubelet API: a TLS client certificate signed by the cluster CA, for clients
// (ExtendedKeyUsage clientAuth when present), whose subject is CN `system:apiserver` or has O
// `system:masters`. Guarantees: no other identity (a node's own certificate included) gets
// through; the decision is per connection and cached. Does not: accept bearer tokens.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export type AuthResult = { ok: true; user: string } | { ok: false; code: 401 | 403; message: string };

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function createClientCertCheck(caPem: string): (socket: TLSSocket) => AuthResult {
  const ca = new X509Certificate(caPem);
  const cache = new WeakMap<TLSSocket, AuthResult>();
  const check = (socket: TLSSocket): AuthResult => {
    // `authorized` means the chain verified against the server's `ca`; we also require our CA
    // to be the direct issuer, as the API server does.
    if (!socket.authorized) return { ok: false, code: 401, message: 'Unauthorized: a client certificate signed by the cluster CA is required' };
    const peer = socket.getPeerCertificate();
    if (!peer || peer.raw === undefined) return { ok: false, code: 401, message: 'Unauthorized: no client certificate' };
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(peer.raw);
    } catch {
      return { ok: false, code: 401, message: 'Unauthorized: unreadable client certificate' };
    }
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return { ok: false, code: 401, message: 'Unauthorized: certificate not issued by the cluster CA' };
    const eku = leaf.keyUsage;
    if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID)) return { ok: false, code: 401, message: 'Unauthorized: not a client certificate' };
    const cn = asList(peer.subject.CN)[0] ?? '';
    const orgs = asList(peer.subject.O);
    if (cn === 'system:apiserver' || orgs.includes('system:masters')) return { ok: true, user: cn };
    return { ok: false, code: 403, message: `Forbidden: user "${cn}" may not use the kubelet API` };
  };
  return (socket) => {
    let r = cache.get(socket);
    if (r === undefined) {
      r = check(socket);
      cache.set(socket, r);
    }
    return r;
  };
}
