// Free TCP ports, for the few programs that cannot bind port 0 and report what they got
// (etcd, a user command told `$PORT`). Trireme's own servers take port 0 and write the port
// they bound to their ready file (src/cli/ready-file.ts): prefer that.
// Guarantees: each port was free at `host` when the OS handed it out; `freePorts` returns
// distinct ports (it holds every listener open until all are chosen, so the OS cannot hand
// the same one out twice).
// Does not: keep them free: another process may take one before the caller binds it (a race
// the caller accepts, or retries).
import { createServer, type Server } from 'node:net';

function listenAny(host: string): Promise<{ srv: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr !== null && typeof addr === 'object') resolve({ srv, port: addr.port });
      else srv.close(() => reject(new Error(`no port bound at ${host}`)));
    });
  });
}

/** `n` distinct ports of `host` that were free a moment ago. */
export async function freePorts(host: string, n: number): Promise<number[]> {
  const held: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const { srv, port } = await listenAny(host);
      held.push(srv);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export async function freePort(host: string): Promise<number> {
  const [port] = await freePorts(host, 1);
  return port!;
}
