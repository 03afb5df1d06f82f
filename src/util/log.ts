// Structured logging (pino). Level from TRIREME_LOG_LEVEL (default info). Two formats: `json`,
// one JSON object per line (for machines and log collectors), and `text`, human-readable lines
// through pino-pretty (time, level, component, message, then the fields). The default is text
// when stdout is a terminal and json otherwise; `--log-format` on each subcommand chooses.
// Guarantees: both formats write synchronously to stdout, so a line logged just before
// process.exit is not lost. Does not: touch what commands print with process.stdout.write
// (ready banners stay plain text in both formats).
import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { TriremeError } from '../errors.js';

export type { Logger };

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function parseLogFormat(v: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(v)) throw new TriremeError('Invalid', `log format must be json or text, not ${v}`);
  return v as LogFormat;
}

/** text on a terminal, json otherwise. */
export function defaultLogFormat(stdoutIsTTY = process.stdout.isTTY === true): LogFormat {
  return stdoutIsTTY ? 'text' : 'json';
}

export function createLogger(component: string, level = process.env.TRIREME_LOG_LEVEL ?? 'info', format: LogFormat = defaultLogFormat()): Logger {
  const opts = { level, base: { component } };
  if (format === 'json') return pino(opts);
  return pino(opts, pinoPretty({ sync: true, destination: 1, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,component', messageFormat: '[{component}] {msg}' }));
}

/** A logger that drops everything, for unit tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
