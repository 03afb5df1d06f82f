// Rules files and the alert state machine: pending → firing after `for`, resolved once, the
// rendered annotations, and refusals of what the evaluator cannot evaluate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseRules, renderTemplate, RulesError, stepAlerts, type ActiveAlert } from '../../../src/ops/alerts/rules.js';
import { SHIPPED_RULES } from '../../../src/ops/alerts/start.js';

const RULE = parseRules(`
groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 30s
        labels: { severity: critical }
        annotations: { summary: "{{ $labels.instance }} is down ({{ $value }})" }
`)[0]!;

describe('parseRules', () => {
  it('reads the shipped rules file', async () => {
    const rules = parseRules(await readFile(SHIPPED_RULES, 'utf8'));
    assert.equal(rules.length, 12);
    const names = rules.map((r) => r.name);
    for (const n of ['TriremeServerDown', 'TriremeNoControllerManagerLeader', 'TriremeNoSchedulerLeader', 'TriremeStoreNoQuorum', 'TriremeStoreMemberDown',
      'TriremeLeaderFlapping', 'TriremeNodeNotReady', 'TriremePodCrashLooping', 'TriremeDeploymentReplicasMismatch', 'TriremeSnapshotMissing',
      'TriremeCertificateExpiringSoon', 'TriremeApiErrorRatioHigh']) assert.ok(names.includes(n), n);
    assert.equal(rules.find((r) => r.name === 'TriremeServerDown')!.forMs, 60_000);
  });

  for (const [what, text, why] of [
    ['not YAML', 'groups: [', /not YAML/],
    ['no groups', 'rules: []', /no `groups`/],
    ['a recording rule', 'groups: [{ name: g, rules: [{ record: r, expr: x }] }]', /only alerting rules.*record r/],
    ['an unsupported expression', 'groups: [{ name: g, rules: [{ alert: A, expr: "x and y" }] }]', /alert A:.*trailing/],
    ['a bad duration', 'groups: [{ name: g, rules: [{ alert: A, expr: x, for: 5 }] }]', /alert A: not a duration/],
  ] as const) {
    it(`refuses ${what}`, () => assert.throws(() => parseRules(text), (e: unknown) => e instanceof RulesError && why.test(e.message)));
  }
});

describe('renderTemplate', () => {
  it('fills $labels and $value, leaves the rest', () => {
    assert.equal(renderTemplate('{{ $labels.a }}/{{$labels.missing}} = {{ $value }} {{ other }}', { a: 'x' }, 0.5), 'x/ = 0.5 {{ other }}');
  });
});

describe('stepAlerts', () => {
  const down = [{ labels: { __name__: 'up', instance: 'a:1' }, value: 0 }];
  it('pending, then firing after for, then resolved once', () => {
    let state: Map<string, ActiveAlert> = new Map();
    let r = stepAlerts(RULE, state, down, 0);
    assert.deepEqual(r.changes, []);
    assert.equal([...r.alerts.values()][0]!.state, 'pending');
    state = r.alerts;
    r = stepAlerts(RULE, state, down, 29_999);
    assert.deepEqual(r.changes, []);
    state = r.alerts;
    r = stepAlerts(RULE, state, down, 30_000);
    assert.deepEqual(r.changes, [{ status: 'firing', labels: { instance: 'a:1', severity: 'critical', alertname: 'Down' }, annotations: { summary: 'a:1 is down (0)' }, startsAt: 0 }]);
    state = r.alerts;
    r = stepAlerts(RULE, state, down, 45_000);
    assert.deepEqual(r.changes, [], 'still firing: no new change');
    state = r.alerts;
    r = stepAlerts(RULE, state, [], 60_000);
    assert.deepEqual(r.changes, [{ status: 'resolved', labels: { instance: 'a:1', severity: 'critical', alertname: 'Down' }, annotations: { summary: 'a:1 is down (0)' }, startsAt: 0, endsAt: 60_000 }]);
    assert.equal(r.alerts.size, 0);
    assert.deepEqual(stepAlerts(RULE, r.alerts, [], 75_000).changes, []);
  });

  it('a pending alert that goes away is dropped without a message', () => {
    const r = stepAlerts(RULE, stepAlerts(RULE, new Map(), down, 0).alerts, [], 10_000);
    assert.deepEqual(r.changes, []);
    assert.equal(r.alerts.size, 0);
  });

  it('for: 0 fires at once', () => {
    const now = { ...RULE, forMs: 0 };
    assert.equal(stepAlerts(now, new Map(), down, 5).changes[0]?.status, 'firing');
  });
});
