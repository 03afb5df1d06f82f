// Where a compiled benchmark finds the repository and the server it measures.
// Guarantees: the server run is the CLI of the same build as the benchmark (`dist/` runs
// `dist/`, a private `--outDir` build runs its own copy), unless TRIREME_BENCH_MAIN says otherwise.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageInfo } from '../../src/util/package-info.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The nearest ancestor holding the trireme package.json. */
export function repoRoot(): string {
  return packageInfo().root;
}

/** `<build>/bench/lib/paths.js` → `<build>/src/cli/main.js`. */
export function cliMain(): string {
  return process.env.TRIREME_BENCH_MAIN ?? join(here, '..', '..', 'src', 'cli', 'main.js');
}

export function resultsDir(): string {
  return join(repoRoot(), 'bench', 'results');
}
