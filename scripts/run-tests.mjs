// Runs the compiled test suite with node's test runner, then prints one summary line (tests,
// pass, fail, skipped, todo). Under CI=true a run with any skipped or todo test fails: in CI
// every dependency is installed, so a skip means a test did not run (the tests themselves fail
// naming a missing dependency, see test/helpers/require-dep.ts).
// usage: node scripts/run-tests.mjs [unit|e2e|all] [filter-substring]
// "unit" = everything outside test/e2e; files are found under dist/test.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const [kind = 'all', filter = ''] = process.argv.slice(2);
const root = new URL('../dist/test', import.meta.url).pathname;
const summaryReporter = new URL('./test-summary-reporter.mjs', import.meta.url).pathname;
const ci = process.env.CI === 'true';

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
const tmp = mkdtempSync(join(tmpdir(), 'trireme-tests-'));
const summaryFile = join(tmp, 'summary.json');
// Concurrency 2 matches the machine's cores; multi-process tests take their own free ports.
const r = spawnSync(process.execPath, [
  '--import', 'reflect-metadata', '--test', '--test-concurrency=2',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${summaryReporter}`, `--test-reporter-destination=${summaryFile}`,
  ...files,
], { stdio: 'inherit' });

let s;
try {
  s = JSON.parse(readFileSync(summaryFile, 'utf8'));
} catch (e) {
  console.error(`no test summary (${e.message}); the runner exited with ${r.status ?? r.signal}`);
  process.exit(r.status || 1);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`\ntests ${s.tests}, pass ${s.pass}, fail ${s.fail}, skipped ${s.skipped}, todo ${s.todo} (${files.length} files)`);
for (const n of s.skippedNames) console.log(`  skipped: ${n}`);
for (const n of s.todoNames) console.log(`  todo: ${n}`);
for (const n of s.failedNames) console.log(`  failed: ${n}`);
if (ci && s.skipped + s.todo > 0) {
  console.error(`CI=true: ${s.skipped} skipped and ${s.todo} todo tests fail the run`);
  process.exit(1);
}
process.exit(r.status ?? 1);
