// A GET over HTTPS that pins the cluster CA and answers status and body text, for tests that
// read plain-text endpoints (/readyz?verbose, /metrics). Rejects on a network error or after 10 s.
import https from 'node:https';

export function getText(url: string, caPem: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: caPem, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}
