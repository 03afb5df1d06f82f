// Where ClusterIPs live: the one piece of the proxy that knows how an address comes to exist on
// this machine. The proxy calls `add(ip)` before it opens the first listener on a ClusterIP and
// `remove(ip)` after it closed the last one; it never looks at interfaces itself.
// Guarantees (loopback host): every address of 127.0.0.0/8 is already on `lo` on Linux, so
// `add` only checks the address is one, and `remove` does nothing (other agents of this machine
// may still listen on it). Does not: an interface-backed host (a dummy interface for pods in
// network namespaces of their own) — that implementation must count users across the agents
// of one machine before it removes an address.
import { TriremeError } from '../../errors.js';

export interface ServiceAddressHost {
  /** Makes `ip` bindable on this machine; rejects if it cannot. */
  add(ip: string): Promise<void>;
  /** This proxy no longer listens on `ip`. */
  remove(ip: string): Promise<void>;
}

export function isLoopbackV4(ip: string): boolean {
  const parts = ip.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export class LoopbackAddressHost implements ServiceAddressHost {
  add(ip: string): Promise<void> {
    if (!isLoopbackV4(ip)) {
      return Promise.reject(new TriremeError('Invalid', `ClusterIP ${ip} is not a loopback address; the loopback address host serves only 127.0.0.0/8 (set --service-cluster-ip-range to a 127.x range)`, { context: { ip } }));
    }
    return Promise.resolve();
  }

  remove(): Promise<void> {
    return Promise.resolve();
  }
}
