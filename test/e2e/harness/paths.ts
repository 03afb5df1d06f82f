// E2E harness: where things are (repository, fixtures, the CLI the servers run) and the run id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../../../src/util/package-info.js';

/** The repository root: the nearest ancestor holding the trireme package.json. */
export const repoRoot: string = packageInfo().root;

/** Fixture files live in the source tree (tsc does not copy them into the build). */
export function fixture(name: string): string {
  return join(repoRoot, 'test', 'e2e', 'fixtures', name);
}

/**
 * A token unique to this test process. Fixtures write `RUN_ID` where it goes (e.g. in a command
 * line marker), so that tests counting processes by marker never see another run's processes.
 */
export const runId: string = `${process.pid}x${Math.random().toString(36).slice(2, 8)}`;

/** A fixture's text with every `RUN_ID` replaced by `runId`. */
export function fixtureText(name: string): string {
  return readFileSync(fixture(name), 'utf8').replaceAll('RUN_ID', runId);
}

/**
 * The server launcher: `bin/trireme`, which runs `dist/src/cli/main.js` — so build `dist/`
 * (`npx tsc -p tsconfig.json`) before running these tests, whichever dir they were compiled to.
 * `TRIREME_E2E_MAIN` names another compiled CLI entry instead.
 */
export const cliMain: string = process.env.TRIREME_E2E_MAIN ?? join(repoRoot, 'bin', 'trireme');
