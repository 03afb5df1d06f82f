// Where the running build's package is, and what it calls itself.
// Guarantees: `packageInfo()` finds the nearest ancestor directory of this module holding the
// trireme package.json, wherever the compiled tree sits (dist/, a private --outDir build, an
// installed copy), and returns its root, name and version; the answer is read once per call.
// Does not: cache, or fall back to a made-up version: a build without its package.json, or
// with an unreadable one, is an error that names the file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TriremeError } from '../errors.js';

export interface PackageInfo {
  /** The directory holding package.json (the repository root in a checkout). */
  root: string;
  name: string;
  version: string;
}

const NAME = 'trireme';

export function packageInfo(): PackageInfo {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new TriremeError('Internal', `cannot read ${file}: ${String(e)}`, { cause: e });
    }
    if (text !== undefined) {
      let pkg: { name?: unknown; version?: unknown };
      try {
        pkg = JSON.parse(text) as typeof pkg;
      } catch (e) {
        throw new TriremeError('Internal', `${file} is not JSON: ${String(e)}`, { cause: e });
      }
      if (pkg.name === NAME && typeof pkg.version === 'string') return { root: dir, name: NAME, version: pkg.version };
    }
    if (dirname(dir) === dir) throw new TriremeError('Internal', `no ${NAME} package.json above ${here}`);
  }
}
