// Writes a container's stdout/stderr to `<logDir>/current.log` in CRI format; used by the shim.
// Guarantees: one record per output line, in the order the bytes arrived per stream; a line
// longer than `maxLineBytes` is split into P records; bytes not ended by a newline when the
// writer closes become a final P record; every record is written whole with a synchronous
// append, so a concurrent reader sees only complete records (or a tail it must buffer);
// `current.log` never exceeds `maxBytes` unless a single record does, and when a record would
// make it exceed, the file moves to `current.log.1` (replacing the older one) first.
// Does not: fsync, or interleave stdout/stderr more finely than per line.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../util/clock.js';
import { CURRENT_LOG, PREVIOUS_LOG, ROTATED_LOG, formatRecord, type LogStream } from './cri.js';

export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;
/** containerd splits lines at 16 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

export interface ContainerLogWriterOptions {
  maxBytes?: number;
  maxLineBytes?: number;
  clock?: Clock;
}

export class ContainerLogWriter {
  private fd: number;
  private size: number;
  private readonly pending: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly maxBytes: number;
  private readonly maxLineBytes: number;
  private readonly clock: Clock;
  private closed = false;

  constructor(private readonly logDir: string, opts: ContainerLogWriterOptions = {}) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.maxLineBytes = Math.max(1, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.clock = opts.clock ?? systemClock;
    mkdirSync(logDir, { recursive: true });
    this.fd = openSync(join(logDir, CURRENT_LOG), 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** Accepts a chunk of the container's output on one stream. */
  write(stream: LogStream, chunk: Buffer): void {
    if (this.closed) return;
    let buf = this.pending[stream].length === 0 ? chunk : Buffer.concat([this.pending[stream], chunk]);
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl >= 0 && nl <= this.maxLineBytes) {
        this.append(stream, 'F', buf.subarray(0, nl));
        buf = buf.subarray(nl + 1);
      } else if (buf.length >= this.maxLineBytes) {
        // No newline within the limit: emit a fragment, as containerd does.
        this.append(stream, 'P', buf.subarray(0, this.maxLineBytes));
        buf = buf.subarray(this.maxLineBytes);
      } else {
        break;
      }
    }
    // Copy: the remainder may be a view into a large chunk we do not want to keep alive.
    this.pending[stream] = Buffer.from(buf);
  }

  /** Writes what is left of unfinished lines as P records and closes the file. */
  close(): void {
    if (this.closed) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream].length > 0) this.append(stream, 'P', this.pending[stream]);
      this.pending[stream] = Buffer.alloc(0);
    }
    this.closed = true;
    closeSync(this.fd);
  }

  private append(stream: LogStream, tag: 'F' | 'P', text: Buffer): void {
    const rec = formatRecord(this.clock.now(), stream, tag, text);
    if (this.size > 0 && this.size + rec.length > this.maxBytes) this.rotate();
    let off = 0;
    while (off < rec.length) off += writeSync(this.fd, rec, off, rec.length - off);
    this.size += rec.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(join(this.logDir, CURRENT_LOG), join(this.logDir, ROTATED_LOG));
    this.fd = openSync(join(this.logDir, CURRENT_LOG), 'a', 0o640);
    this.size = 0;
  }
}

/**
 * Before a new instance of the container starts: the logs of the last instance (rotated part
 * first, then current) become `previous.log`, replacing any older one, and `current.log` starts
 * empty. Does nothing when the last instance left no log at all.
 */
export function rotateForNewInstance(logDir: string): void {
  const current = join(logDir, CURRENT_LOG);
  const rotated = join(logDir, ROTATED_LOG);
  const previous = join(logDir, PREVIOUS_LOG);
  const hasCurrent = existsSync(current);
  const hasRotated = existsSync(rotated);
  if (!hasCurrent && !hasRotated) return;
  if (hasRotated) {
    // Build the concatenation beside the target and rename it in, so readers of previous.log
    // never see a half-written file.
    const tmp = `${previous}.tmp`;
    writeFileSync(tmp, readFileSync(rotated));
    if (hasCurrent) writeFileSync(tmp, readFileSync(current), { flag: 'a' });
    renameSync(tmp, previous);
    rmSync(rotated, { force: true });
    rmSync(current, { force: true });
  } else {
    renameSync(current, previous);
  }
}
