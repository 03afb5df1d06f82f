// tcpSocket probes: success when a TCP connection opens within the timeout; the connection is
// closed at once. Says nothing about whether the listener then serves anything.
import { connect } from 'node:net';
import type { ProbeOutcome } from './types.js';

export function tcpProbe(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    let done = false;
    const sock = connect({ host, port });
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ success: false, message: `dial tcp ${addr}: i/o timeout` }), timeoutMs);
    const onAbort = (): void => finish({ success: false, message: `dial tcp ${addr}: probe cancelled` });
    signal?.addEventListener('abort', onAbort);
    sock.once('connect', () => finish({ success: true, message: '' }));
    sock.once('error', (e) => finish({ success: false, message: `dial tcp ${addr}: ${e.message}` }));
  });
}
