// The expiry of the certificate a TLS server presents (the I/O edge of the doctor's certificate
// check). Guarantees: never throws; an unreachable peer or a failed handshake is an Error (not a
// certificate finding: the doctor reports the server or node itself elsewhere); the certificate
// is read even when it has expired or fails verification, since that is what is being checked.
// Does not: verify the chain (the callers' requests do that).
import tls from 'node:tls';

export function peerCertificateExpiry(host: string, port: number, timeoutMs = 2_000): Promise<number | Error> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) });
    const done = (v: number | Error): void => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no TLS handshake with ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', (e) => done(new Error(`${host}:${port}: ${e.message}`)));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const ms = cert && cert.valid_to ? Date.parse(cert.valid_to) : Number.NaN;
      done(Number.isNaN(ms) ? new Error(`${host}:${port} presented no certificate`) : ms);
    });
  });
}
