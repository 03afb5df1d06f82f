// The CRI container log line format: `<RFC3339Nano> <stdout|stderr> <F|P> <text>\n`.
// Guarantees: format and parse are inverse for any text without a newline; timestamps we write
// have a fixed 9-digit fraction (so lines sort as text), and parse accepts any RFC3339 fraction.
// Does not: validate more than the four fields (a malformed line parses to undefined).
import { isoMillis } from '../../api/time.js';

export const CURRENT_LOG = 'current.log';
export const ROTATED_LOG = 'current.log.1';
export const PREVIOUS_LOG = 'previous.log';

export type LogStream = 'stdout' | 'stderr';
/** F: the line ended with a newline; P: a fragment, the next record continues it. */
export type LogTag = 'F' | 'P';

export interface CriRecord {
  /** The timestamp as written. */
  time: string;
  /** The timestamp in ms since the epoch (fraction below 1 ms dropped). */
  ms: number;
  stream: LogStream;
  tag: LogTag;
  text: Buffer;
}

/** `2024-05-01T10:00:00.123000000Z`: RFC3339 with nanoseconds, always 9 digits, UTC. */
export function formatTimestamp(ms: number): string {
  return `${isoMillis(ms).slice(0, -1)}000000Z`;
}

/** Go's RFC3339Nano output: trailing zeros of the fraction dropped (what kubectl shows). */
export function goRfc3339Nano(time: string): string {
  return time.replace(/\.(\d*?)0+(Z|[+-]\d\d:\d\d)$/, (_m, digits: string, zone: string) => (digits ? `.${digits}${zone}` : zone));
}

export function formatRecord(ms: number, stream: LogStream, tag: LogTag, text: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${formatTimestamp(ms)} ${stream} ${tag} `), text, Buffer.from('\n')]);
}

const TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;

/** Parses an RFC3339 timestamp with any fraction to ms since the epoch; NaN if malformed. */
export function parseTimestamp(s: string): number {
  const m = TIME.exec(s);
  if (!m) return NaN;
  const frac = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  return Date.parse(`${m[1]}.${frac}${m[3]}`);
}

/** Parses one line (without its newline). */
export function parseRecord(line: Buffer): CriRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const s3 = line.indexOf(0x20, s2 + 1);
  // `... stdout F` with empty text may lack the last space.
  const tagEnd = s3 < 0 ? line.length : s3;
  const time = line.subarray(0, s1).toString('latin1');
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  const tag = line.subarray(s2 + 1, tagEnd).toString('latin1');
  if ((stream !== 'stdout' && stream !== 'stderr') || (tag !== 'F' && tag !== 'P')) return undefined;
  const ms = parseTimestamp(time);
  if (Number.isNaN(ms)) return undefined;
  return { time, ms, stream, tag, text: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1) };
}
