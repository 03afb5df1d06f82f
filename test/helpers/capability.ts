// Test helper: what a test does when the machine lacks something it needs. Under CI=true the
// test fails naming the missing capability (a CI run must not quietly test less); elsewhere it
// is skipped with a visible reason.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/** Returns true if the test may go on; otherwise fails it (CI) or skips it with `missing` as the reason. */
export function requireCapability(t: TestContext, missing: string | undefined): boolean {
  if (missing === undefined) return true;
  if (process.env.CI === 'true') assert.fail(`missing capability under CI=true: ${missing}`);
  t.skip(`skipped: ${missing}`);
  return false;
}
