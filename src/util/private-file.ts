// Writing a file readable by its owner only (keys, tokens, credentials), reading one that may
// not exist yet, and the unique temp name every write-then-rename in the tree uses.
// Guarantees: the temp file is created with the mode before any byte lands in it (exclusive
// create), its mode is set exactly (the umask does not filter it), and it is renamed over the
// target, so readers see the old or the new content; the temp file is removed on failure.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';

/**
 * A temporary sibling of `path` for write-then-rename, unique per call: two writes of one file
 * in flight at once (even from one process) never share, and so never steal, a temp file.
 */
export function tempSibling(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export async function writePrivateFile(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await chmod(tmp, mode); // writeFile's mode is filtered by the umask; make it exact
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The file's text, or undefined when it does not exist (any other error is thrown). */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
