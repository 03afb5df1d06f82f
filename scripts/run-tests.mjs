// Runs the compiled test suite with node's test runner.
// usage: node scripts/run-tests.mjs [unit|e2e|all] [filter-substring]
// "unit" = everything outside test/e2e; files are found under dist/test.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const [kind = 'all', filter = ''] = process.argv.slice(2);
const root = new URL('../dist/test', import.meta.url).pathname;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const files = walk(root)
  .filter((f) => kind === 'all' || (kind === 'unit') !== f.includes('/test/e2e/'))
  .filter((f) => f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched (${kind} ${filter})`);
  process.exit(1);
}
// Concurrency 2 matches the machine's cores; multi-process tests take their own free ports.
const r = spawnSync(process.execPath, ['--import', 'reflect-metadata', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
