// The checks behind /healthz and /readyz (/livez runs none of them: a sick store must not get
// the server restarted, it recovers by itself): the store's own readiness under a deadline,
// and whether the server is shutting down.
// Guarantees: answers within `timeoutMs` (default 3 s) even if the store hangs; a check that
// fails carries a message naming its cause. Does not: cache results (every request checks).
import type { Store } from '../storage/store.js';
import type { Clock, Timer } from '../util/clock.js';

export interface HealthCheck {
  name: string;
  ok: boolean;
  message?: string;
}

export interface ReadinessOptions {
  store: Store;
  clock: Clock;
  /** True once the server began to stop. */
  shuttingDown(): boolean;
  timeoutMs?: number;
}

export async function readiness(opts: ReadinessOptions): Promise<HealthCheck[]> {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  let timer: Timer | undefined;
  const late = new Promise<{ ok: false; message: string }>((resolve) => {
    timer = opts.clock.setTimeout(() => resolve({ ok: false, message: `the store did not answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const store = await Promise.race([
    opts.store.readiness().catch((err: unknown) => ({ ok: false, message: err instanceof Error ? err.message : String(err) })),
    late,
  ]);
  if (timer) opts.clock.clearTimeout(timer);
  const down = opts.shuttingDown();
  return [
    { name: 'store', ok: store.ok, ...(store.ok ? {} : { message: store.message }) },
    { name: 'shutdown', ok: !down, ...(down ? { message: 'server is shutting down' } : {}) },
  ];
}
