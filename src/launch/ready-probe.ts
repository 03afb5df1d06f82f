// Whether a Trireme API server (or a balancer in front of one) answers `GET /readyz` with 200,
// for launchers that wait for a child to serve. Guarantees: resolves within about 2 s and never
// rejects (refused, timed out or any other error is "not ready"). Does not verify the server's
// certificate: it asks whether something serves there, not who (clients pin the CA later).
import { request } from 'node:https';

export function probeReady(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(new URL('/readyz', url), { method: 'GET', rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
