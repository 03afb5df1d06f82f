// `kubectl logs` over a container's CRI log files, as a Node Readable stream.
// Guarantees:
//   - reads `current.log.1` then `current.log` (or `previous.log` with `previous`), so output
//     spans one size rotation;
//   - `tailLines` keeps the last N records, then `sinceSeconds`/`sinceTime` drops records older
//     than the cut-off (the kubelet's order); `limitBytes` cuts the output at exactly N bytes;
//   - text is the container's bytes: P fragments are joined (no newline), F records end with one;
//     `timestamps` prefixes each record with its RFC3339Nano time (Go formatting) and a space;
//   - `follow` keeps reading `current.log` as it grows, moves on to the new file after a size
//     rotation (after two rotations between two looks the lines of the file in between are
//     lost, the stream goes on), and ends when the container is no longer running and its
//     output is drained, when a new instance replaced `previous.log` (the followed file became
//     it or was copied into it), or when the stream is destroyed (client gone) — it never holds
//     the file open after that.
// Does not: notice a new instance that started while following (kubectl's -f ends with the
// instance, as with the kubelet), or interleave stdout/stderr more precisely than the file.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { systemClock, type Clock } from '../../util/clock.js';
import { CURRENT_LOG, PREVIOUS_LOG, ROTATED_LOG, goRfc3339Nano, parseRecord, type CriRecord } from './cri.js';
import { LineFile } from './line-file.js';

export interface LogReadOptions {
  follow?: boolean;
  /** Last N records; undefined or negative for all. */
  tailLines?: number;
  /** Only records at most this many seconds old (by `clock`). */
  sinceSeconds?: number;
  /** Only records at or after this time (ms since the epoch). Ignored when sinceSeconds is set. */
  sinceTime?: number;
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  previous?: boolean;
}

export interface LogSource {
  logDir: string;
  /** Asked while following: once false (and the file drained) the stream ends. */
  isRunning(): boolean;
  clock?: Clock;
  /** How often a follower looks for new output, default 200 ms. */
  pollMs?: number;
}

async function inode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** True when there is no log to read for the request (e.g. `previous` before any restart). */
export async function logsMissing(logDir: string, previous: boolean): Promise<boolean> {
  const names = previous ? [PREVIOUS_LOG] : [CURRENT_LOG, ROTATED_LOG];
  for (const n of names) if ((await inode(join(logDir, n))) !== undefined) return false;
  return true;
}

export function formatOutput(rec: CriRecord, timestamps: boolean): Buffer {
  const nl = rec.tag === 'F' ? '\n' : '';
  if (!timestamps) return nl ? Buffer.concat([rec.text, Buffer.from(nl)]) : rec.text;
  return Buffer.concat([Buffer.from(`${goRfc3339Nano(rec.time)} `), rec.text, Buffer.from(nl)]);
}

/** Opens the log as a stream. Errors (other than missing files) surface as stream errors. */
export function readLogs(src: LogSource, opts: LogReadOptions = {}): Readable {
  const clock = src.clock ?? systemClock;
  const pollMs = src.pollMs ?? 200;
  const stopped = new AbortController();
  let wantMore: (() => void) | undefined;
  let written = 0;
  const since = opts.sinceSeconds !== undefined && opts.sinceSeconds > 0
    ? clock.now() - opts.sinceSeconds * 1000
    : opts.sinceTime;

  const out = new Readable({
    read() {
      const w = wantMore;
      wantMore = undefined;
      w?.();
    },
    destroy(err, cb) {
      stopped.abort();
      wantMore?.();
      cb(err);
    },
  });

  /** Pushes one record's output; false when the stream should end (limit reached or gone). */
  const emit = async (rec: CriRecord): Promise<boolean> => {
    if (stopped.signal.aborted) return false;
    if (since !== undefined && rec.ms < since) return true;
    let chunk = formatOutput(rec, opts.timestamps ?? false);
    const limit = opts.limitBytes;
    if (limit !== undefined && limit > 0 && written + chunk.length >= limit) {
      chunk = chunk.subarray(0, limit - written);
      written = limit;
      if (chunk.length) out.push(chunk);
      return false;
    }
    written += chunk.length;
    if (chunk.length && !out.push(chunk)) await new Promise<void>((r) => (wantMore = r));
    return !stopped.signal.aborted;
  };

  const emitLines = async (lines: Buffer[]): Promise<boolean> => {
    for (const line of lines) {
      const rec = parseRecord(line);
      if (rec && !(await emit(rec))) return false;
    }
    return true;
  };

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    if (stopped.signal.aborted) return resolve();
    const t = clock.setTimeout(done, ms);
    function done(): void {
      clock.clearTimeout(t);
      stopped.signal.removeEventListener('abort', done);
      resolve();
    }
    stopped.signal.addEventListener('abort', done);
  });

  const run = async (): Promise<void> => {
    const dir = src.logDir;
    const opened: LineFile[] = [];
    try {
      // Open current before rotated: if a rotation happens in between, both handles name the
      // same file and we skip the duplicate instead of missing a file.
      let follow: LineFile | undefined;
      let previousAtStart: number | undefined;
      let initial: Buffer[] = [];
      if (opts.previous) {
        const prev = await LineFile.open(join(dir, PREVIOUS_LOG));
        if (prev) {
          opened.push(prev);
          initial = await prev.readLines();
        }
      } else {
        // A new instance replaces previous.log; a size rotation never touches it.
        previousAtStart = await inode(join(dir, PREVIOUS_LOG));
        const cur = await LineFile.open(join(dir, CURRENT_LOG));
        const rot = await LineFile.open(join(dir, ROTATED_LOG));
        if (cur) opened.push(cur);
        if (rot) opened.push(rot);
        if (rot && rot.ino !== cur?.ino) initial.push(...(await rot.readLines()));
        if (cur) initial.push(...(await cur.readLines()));
        follow = cur;
      }
      if (opts.tailLines !== undefined && opts.tailLines >= 0) initial = opts.tailLines === 0 ? [] : initial.slice(-opts.tailLines);
      if (!(await emitLines(initial))) return;
      if (!opts.follow || opts.previous) return;

      for (;;) {
        if (stopped.signal.aborted) return;
        if (!follow) {
          // Nothing written yet: wait for the file to appear, or for the container to end.
          follow = await LineFile.open(join(dir, CURRENT_LOG));
          if (follow) opened.push(follow);
          else if (!src.isRunning()) return;
          else {
            await sleep(pollMs);
            continue;
          }
        }
        const running = src.isRunning();
        if (!(await emitLines(await follow.readLines()))) return;
        const curIno = await inode(join(dir, CURRENT_LOG));
        if (curIno !== follow.ino) {
          // Our file was renamed away. Drain what was written to it before the rename, then
          // stop if a new instance took over (previous.log changed: our file became it or was
          // copied into it), else it was a size rotation — possibly two since the last look,
          // our file then replaced and the lines of the one in between lost: continue with the
          // fresh current.log.
          if (!(await emitLines(await follow.readLines()))) return;
          if ((await inode(join(dir, PREVIOUS_LOG))) !== previousAtStart) return;
          await follow.close();
          follow = undefined;
          continue;
        }
        // `running` was sampled before the last read: everything the finished container wrote
        // was already in the file, so the read above drained it.
        if (!running) return;
        await sleep(pollMs);
      }
    } finally {
      for (const f of opened) await f.close();
    }
  };

  run().then(
    () => {
      if (!out.destroyed) out.push(null);
    },
    (e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))),
  );
  return out;
}
