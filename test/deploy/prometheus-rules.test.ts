// The shipped alert rules (deploy/prometheus/alerts.yaml) are valid for the real Prometheus
// (`promtool check rules`) and behave as their unit tests say (`promtool test rules
// deploy/prometheus/alerts.test.yaml`: each alert fires on the series it is meant for, after
// its `for:`, with its labels and rendered annotations, and stays silent otherwise).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deps, needs, pathOf } from '../helpers/require-dep.js';

const DIR = fileURLToPath(new URL('../../../deploy/prometheus/', import.meta.url));

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(pathOf(deps.promtool), args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('deploy/prometheus rules', { skip: needs(deps.promtool) }, () => {
  it('pass promtool check rules', () => {
    const r = promtool('check', 'rules', 'alerts.yaml');
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS: 12 rules found/);
  });

  it('pass their promtool unit tests', () => {
    const r = promtool('test', 'rules', 'alerts.test.yaml');
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });
});
