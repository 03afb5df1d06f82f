// Structured logging: one JSON line per event (pino). Level from TRIREME_LOG_LEVEL (default info).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(component: string, level = process.env.TRIREME_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component } });
}

/** A logger that drops everything, for unit tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
