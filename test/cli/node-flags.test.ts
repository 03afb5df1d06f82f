import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { agentTimingsFromFlags, durationMs, nodeConditionOptions, nodeConditionsFromFlags, type NodeConditionFlags } from '../../src/cli/node-flags.js';
import { DEFAULT_PRESSURE_TRANSITION_MS, DEFAULT_THRESHOLDS, NO_RESERVATION } from '../../src/agent/node/thresholds.js';

const parse = (args: string[]) => {
  const cmd = nodeConditionOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined })).action(() => undefined);
  return cmd.parse(args, { from: 'user' }).opts<Partial<NodeConditionFlags>>();
};

test('durationMs: Go durations', () => {
  assert.equal(durationMs('0'), 0);
  assert.equal(durationMs('300ms'), 300);
  assert.equal(durationMs('30s'), 30_000);
  assert.equal(durationMs('1h30m'), 5_400_000);
  assert.equal(durationMs('1.5s'), 1500);
  assert.throws(() => durationMs('5 minutes'), /not a duration/);
  assert.throws(() => durationMs('10'), /not a duration/);
});

test('the flags: defaults, values, and bad values refused with the item named', () => {
  const none = nodeConditionsFromFlags(parse([]));
  assert.deepEqual(none, { reserved: NO_RESERVATION, transitionMs: DEFAULT_PRESSURE_TRANSITION_MS });
  const set = nodeConditionsFromFlags(parse(['--pressure-thresholds', 'nodefs.available<100%', '--system-reserved', 'cpu=1', '--pressure-transition-period', '0']));
  assert.deepEqual(set.thresholds, { ...DEFAULT_THRESHOLDS, 'nodefs.available': { percent: 100 } });
  assert.deepEqual(set.reserved, { ...NO_RESERVATION, milliCpu: 1000 });
  assert.equal(set.transitionMs, 0);
  assert.throws(() => parse(['--pressure-thresholds', 'imagefs.available<1%']), /unknown signal imagefs\.available/);
  assert.throws(() => parse(['--system-reserved', 'gpu=1']), /"gpu=1"/);
});

test('--node-lease-renew-interval: default 1 s, a duration, more than 0', () => {
  assert.deepEqual(agentTimingsFromFlags(parse([])), { leasePeriodMs: 1000, statsPeriodMs: 5000 });
  assert.deepEqual(agentTimingsFromFlags(parse(['--node-lease-renew-interval', '500ms'])), { leasePeriodMs: 500, statsPeriodMs: 5000 });
  assert.throws(() => parse(['--node-lease-renew-interval', '0']), /more than 0/);
  assert.throws(() => parse(['--node-lease-renew-interval', '2']), /not a duration/);
});
