// Graceful shutdown on SIGTERM/SIGINT for long-running subcommands: runs `stop` once, then exits
// 0 (or 1 if stopping failed). A second signal while stopping is ignored.
import type { Logger } from '../util/log.js';

export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
