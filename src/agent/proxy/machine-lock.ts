// Which agent of this machine serves the ClusterIP listeners of one cluster: the one that holds a
// listening socket in Linux's abstract unix-socket namespace, `@trireme-proxy-<key>`. The kernel
// frees it the moment its holder exits (kill -9 included), and no file is left behind.
// Guarantees: at most one process of this network namespace holds a given name; `tryAcquire()`
// answers false while another holds it (EADDRINUSE) and is cheap enough to call every 250 ms.
// Does not: work where abstract sockets do not exist (not Linux: `machineLock` returns undefined
// and the proxy contends per listener instead); fence a holder that is alive but stuck.
import net from 'node:net';
import type { Logger } from '../../util/log.js';
import { isAddrInUse } from './listener.js';
import { clusterTable } from './nft-ruleset.js';

export interface MachineLock {
  readonly name: string;
  readonly held: boolean;
  /** True when this process holds the lock now (already, or just acquired). */
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * One lock per cluster: its name comes from the cluster CA, so two clusters on one machine do not
 * share it; the holder also owns the cluster's nftables table of the same hash (nft-ruleset.ts).
 */
export function machineLock(clusterKey: string, logger: Logger, platform = process.platform): MachineLock | undefined {
  if (platform !== 'linux') return undefined;
  return new AbstractSocketLock(clusterTable(clusterKey).lock, logger);
}

export class AbstractSocketLock implements MachineLock {
  private server: net.Server | undefined;

  constructor(readonly name: string, private readonly log: Logger) {}

  get held(): boolean {
    return this.server !== undefined;
  }

  tryAcquire(): Promise<boolean> {
    if (this.server) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const s = net.createServer((c) => c.destroy());
      s.once('error', (e) => {
        s.close();
        if (isAddrInUse(e)) resolve(false);
        else reject(e);
      });
      s.listen({ path: `\0${this.name}` }, () => {
        s.removeAllListeners('error');
        s.on('error', (e) => this.log.error({ err: e, lock: this.name }, 'proxy machine lock socket failed'));
        this.server = s;
        resolve(true);
      });
    });
  }

  release(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
