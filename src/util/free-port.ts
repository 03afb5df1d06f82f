// A free TCP port, for the few programs that cannot bind port 0 and report what they got
// (etcd, a user command told `$PORT`). Trireme's own servers take port 0 and write the port
// they bound to their ready file (src/cli/ready-file.ts): prefer that.
// Guarantees: the port was free at `host` when the OS handed it out.
// Does not: keep it free: another process may take it before the caller binds it (a race the
// caller accepts, or retries).
import { createServer } from 'node:net';

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr !== null && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
