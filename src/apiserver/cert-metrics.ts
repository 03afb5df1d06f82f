// `trireme_certificate_expiry_timestamp_seconds{certificate}`: when this server's certificates
// expire (Unix seconds), read from the PEMs it serves with: `ca` (the cluster CA) and `serving`
// (the API server's HTTPS certificate). Guarantees: the value is the certificate's notAfter, read
// when scraped, so a certificate replaced on disk and reloaded shows its new date. Does not:
// renew anything, or watch other components' certificates.
import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';

/** Seconds since the epoch at which the PEM certificate stops being valid. */
export function expirySeconds(pem: string): number {
  return Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);
}

export function registerCertificateMetrics(registry: Registry, certs: () => Record<string, string>): void {
  new Gauge({
    name: 'trireme_certificate_expiry_timestamp_seconds', help: 'When each certificate of this server expires (Unix seconds)', labelNames: ['certificate'], registers: [registry],
    collect() {
      this.reset();
      for (const [certificate, pem] of Object.entries(certs())) this.set({ certificate }, expirySeconds(pem));
    },
  });
}
