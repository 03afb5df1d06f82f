import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import {
  nodeLifecycleFromFlags, nodeLifecycleOptions, tolerationOptions, tolerationsFromFlags, type NodeLifecycleFlags, type TolerationFlags,
} from '../../src/cli/node-lifecycle-flags.js';

const parse = (args: string[]) => {
  const cmd = tolerationOptions(nodeLifecycleOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }))).action(() => undefined);
  return cmd.parse(args, { from: 'user' }).opts<Partial<NodeLifecycleFlags & TolerationFlags>>();
};

test('node lifecycle flags: defaults', () => {
  assert.deepEqual(nodeLifecycleFromFlags(parse([])), { gracePeriodMs: 5000, unhealthyZoneThreshold: 0.5, secondaryEvictionRate: 0 });
  assert.deepEqual(tolerationsFromFlags(parse([])), { notReadySeconds: 3, unreachableSeconds: 1 });
});

test('node lifecycle flags: values', () => {
  const f = parse([
    '--node-monitor-grace-period', '40s', '--unhealthy-zone-threshold', '0.55', '--secondary-node-eviction-rate', '0.01',
    '--default-not-ready-toleration-seconds', '300', '--default-unreachable-toleration-seconds', '0',
  ]);
  assert.deepEqual(nodeLifecycleFromFlags(f), { gracePeriodMs: 40_000, unhealthyZoneThreshold: 0.55, secondaryEvictionRate: 0.01 });
  assert.deepEqual(tolerationsFromFlags(f), { notReadySeconds: 300, unreachableSeconds: 0 });
});

test('node lifecycle flags: bad values refused with a one-line reason', () => {
  assert.throws(() => parse(['--node-monitor-grace-period', '0']), /more than 0/);
  assert.throws(() => parse(['--node-monitor-grace-period', '5']), /not a duration/);
  assert.throws(() => parse(['--unhealthy-zone-threshold', '1']), /fraction/);
  assert.throws(() => parse(['--unhealthy-zone-threshold', 'half']), /fraction/);
  assert.throws(() => parse(['--secondary-node-eviction-rate', '-1']), /≥ 0/);
  assert.throws(() => parse(['--default-unreachable-toleration-seconds', '1.5']), /whole number/);
});
