// Test helper: a small tmpfs the test can fill, for full-disk tests. Needs root (mount(8)).
// Guarantees: every mount made here is unmounted by `unmount()`, and as a last resort (lazy
// unmount) when the test process exits, so a failed test leaves no mount behind.
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const mounted = new Set<string>();
process.on('exit', () => {
  for (const dir of mounted) {
    try {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // exiting anyway; nothing left to report to
    }
  }
});

export interface Tmpfs {
  dir: string;
  /** Bytes an unprivileged writer could still write (statfs f_bavail). */
  freeBytes(): number;
  /** Writes a filler file until the file system is full (ENOSPC even for a single byte). */
  fill(): void;
  /** Deletes the filler file: the space is back. */
  release(): void;
  /** Unmounts (lazily if still busy) and removes the mount point. */
  unmount(): Promise<void>;
}

/** Why a tmpfs cannot be mounted here (undefined if it can): tries a 1 MiB one. */
export async function tmpfsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    const fs = await mountTmpfs(1024 * 1024);
    await fs.unmount();
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs: ${(err as Error).message}`;
  }
}

export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir]);
  } catch (err) {
    await rmdir(dir);
    throw err;
  }
  mounted.add(dir);
  const filler = join(dir, 'filler');
  return {
    dir,
    freeBytes: () => {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    fill: () => {
      const fd = openSync(filler, 'a');
      try {
        for (const chunk of [1024 * 1024, 4096, 1]) {
          const buf = Buffer.alloc(chunk, 0x61);
          try {
            for (;;) writeSync(fd, buf);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    release: () => unlinkSync(filler),
    unmount: async () => {
      if (!mounted.has(dir)) return;
      try {
        await run('umount', [dir]);
      } catch {
        await run('umount', ['-l', dir]);
      }
      mounted.delete(dir);
      await rmdir(dir);
    },
  };
}
