// Reads complete lines from an open file, remembering where it stopped, so the same file can be
// read again as it grows (tail -f). Guarantees: each call returns only newline-terminated lines
// (without the newline), in order, each exactly once; an unterminated tail is kept until its
// newline arrives. A file that shrank below our position (truncated) is read again from 0.
// Does not: notice renames — the follower compares inodes for that.
import { open, type FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;

export class LineFile {
  private pos = 0;
  private partial = Buffer.alloc(0);

  private constructor(private readonly fh: FileHandle, readonly ino: number) {}

  /** Opens a file; undefined if it does not exist. */
  static async open(path: string): Promise<LineFile | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const st = await fh.stat();
    return new LineFile(fh, st.ino);
  }

  /** Every complete line written since the last call. */
  async readLines(): Promise<Buffer[]> {
    const st = await this.fh.stat();
    if (st.size < this.pos) {
      this.pos = 0;
      this.partial = Buffer.alloc(0);
    }
    const lines: Buffer[] = [];
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await this.fh.read(buf, 0, CHUNK, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      let data = this.partial.length ? Buffer.concat([this.partial, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      let nl: number;
      while ((nl = data.indexOf(0x0a)) >= 0) {
        lines.push(Buffer.from(data.subarray(0, nl)));
        data = data.subarray(nl + 1);
      }
      this.partial = Buffer.from(data);
    }
    return lines;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
