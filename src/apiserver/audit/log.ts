// The audit log writer: one JSON line per event appended to a file, off the request path.
// Guarantees:
// - `record` never blocks and never throws: an event goes on a bounded queue (default 10,000)
//   that one background loop writes out in order; when the queue is full the event is dropped,
//   counted (`trireme_audit_events_dropped_total`) and logged once (then once more each time
//   writing caught up and dropped again);
// - with `maxSizeBytes` > 0, a write that would take the file past it first renames the file to
//   `<name>-<UTC time><ext>` (backupName) and starts a new one; with `maxBackups` > 0, only that
//   many renamed files are kept (the oldest removed); 0 means no limit, as in Kubernetes;
// - `close` writes what is queued, then closes the file; the file's directory is created if absent.
// Does not: fsync each line (the OS flushes; a crash can lose the last lines), or retry a failed
// write (the error is logged and the lines counted as dropped).
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';

export interface AuditLogOptions {
  path: string;
  /** Rotate before the file grows past this (0: never). */
  maxSizeBytes: number;
  /** Rotated files kept (0: all). */
  maxBackups: number;
  queueSize?: number;
  clock: Clock;
  logger: Logger;
  registry: Registry;
}

/** The name a rotated file gets: `audit.log` → `audit-20261203T063000.123Z.log`. */
export function backupName(path: string, now: number): string {
  const ext = extname(path);
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '');
  return join(dirname(path), `${basename(path, ext)}-${stamp}${ext}`);
}

/** Of the names in the log's directory, the rotated files beyond the newest `keep` (0: none). */
export function backupsToRemove(path: string, names: string[], keep: number): string[] {
  if (keep <= 0) return [];
  const ext = extname(path);
  const base = basename(path, ext);
  const pattern = new RegExp(`^${escape(base)}-\\d{8}T\\d{6}\\.\\d{3}Z${escape(ext)}$`);
  return names.filter((n) => pattern.test(n)).sort().reverse().slice(keep);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class AuditLog {
  private queue: string[] = [];
  private writing = false;
  private file?: FileHandle;
  private size = 0;
  private droppedSinceLog = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly dropped: Counter;
  private readonly max: number;

  constructor(private readonly o: AuditLogOptions) {
    this.max = o.queueSize ?? 10_000;
    this.dropped = new Counter({ name: 'trireme_audit_events_dropped_total', help: 'Audit events dropped because the audit log queue was full (or a write failed)', registers: [o.registry] });
  }

  record(event: unknown): void {
    if (this.closed) return;
    if (this.queue.length >= this.max) {
      this.dropped.inc();
      if (!this.droppedSinceLog) {
        this.droppedSinceLog = true;
        this.o.logger.warn({ queue: this.max, path: this.o.path }, 'audit log queue full: dropping audit events (trireme_audit_events_dropped_total)');
      }
      return;
    }
    this.queue.push(`${JSON.stringify(event)}\n`);
    if (!this.writing) {
      this.writing = true;
      this.idle = this.drain();
    }
  }

  /** Resolves once everything queued so far is written. */
  async flushed(): Promise<void> {
    while (this.writing) await this.idle;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
    await this.file?.close();
    this.file = undefined;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        const data = batch.join('');
        try {
          await this.write(data);
        } catch (err) {
          this.dropped.inc(batch.length);
          this.o.logger.error({ err, path: this.o.path, lines: batch.length }, 'writing the audit log failed: lines dropped');
        }
        if (this.queue.length < this.max) this.droppedSinceLog = false;
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(data: string): Promise<void> {
    const bytes = Buffer.byteLength(data);
    if (!this.file) await this.openFile();
    if (this.o.maxSizeBytes > 0 && this.size > 0 && this.size + bytes > this.o.maxSizeBytes) await this.rotate();
    await this.file!.write(data);
    this.size += bytes;
  }

  private async openFile(): Promise<void> {
    await mkdir(dirname(this.o.path), { recursive: true, mode: 0o700 });
    this.file = await open(this.o.path, 'a', 0o600);
    this.size = (await stat(this.o.path)).size;
  }

  private async rotate(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
    await rename(this.o.path, backupName(this.o.path, this.o.clock.now()));
    const dir = dirname(this.o.path);
    for (const n of backupsToRemove(this.o.path, await readdir(dir), this.o.maxBackups)) await rm(join(dir, n), { force: true });
    await this.openFile();
  }
}
