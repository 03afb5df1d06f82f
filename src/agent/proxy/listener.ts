// What the proxy runtime needs of a TCP or UDP listener, and the bind-as-lock rule they share.
// Guarantees: `bind()` resolves `busy` when the address:port is taken (EADDRINUSE: on a shared
// ClusterIP, another agent of this machine holds it) and `bound` once it listens; any other bind
// failure rejects with the system error. Does not: retry (the runtime does).
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { ListenerSpec } from './table.js';

export type BindResult = 'bound' | 'busy';

export interface ProxyListener {
  readonly key: string;
  readonly bound: boolean;
  spec: ListenerSpec;
  bind(): Promise<BindResult>;
  /** New backends / affinity, kept sockets. */
  update(spec: ListenerSpec): void;
  /** Stops listening and ends every connection or flow through it. */
  close(): Promise<void>;
  /** Periodic housekeeping: expired affinity, idle UDP flows. */
  sweep(now: number): void;
}

export interface ListenerOptions {
  clock: Clock;
  logger: Logger;
  /** A TCP connect to a backend that takes longer fails over to the next one. */
  connectTimeoutMs: number;
  /** A UDP flow (client address ↔ backend) idle this long is forgotten, as conntrack does. */
  udpIdleMs: number;
  /** At most this many UDP flows per listener; datagrams of new clients beyond are dropped. */
  maxUdpFlows: number;
}

export const DEFAULT_LISTENER_OPTIONS = { connectTimeoutMs: 1_000, udpIdleMs: 30_000, maxUdpFlows: 4_096 };

export function isAddrInUse(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}
