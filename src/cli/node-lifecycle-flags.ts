// The node lifecycle flags of `trireme controller-manager` and `trireme server`, named as
// kube-controller-manager names them: the grace period before a silent node is unreachable, the
// mass-disruption guard's threshold and its slow eviction rate; and the pod toleration defaults
// of `trireme apiserver` / `server` (kube-apiserver's DefaultTolerationSeconds flags).
// Guarantees: bad values stop the command before anything starts, with a one-line message.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_NODE_MONITOR_GRACE_MS } from '../controllers/nodelifecycle/health.js';
import { DEFAULT_SECONDARY_EVICTION_RATE, DEFAULT_UNHEALTHY_THRESHOLD } from '../controllers/nodelifecycle/disruption.js';
import type { NodeLifecycleOptions } from '../controllers/node-lifecycle.js';
import { DEFAULT_NOT_READY_TOLERATION_SECONDS, DEFAULT_UNREACHABLE_TOLERATION_SECONDS, type DefaultTolerations } from '../apiserver/strategies/index.js';
import { positiveDurationMs } from './node-flags.js';

export interface NodeLifecycleFlags {
  nodeMonitorGracePeriod: number;
  unhealthyZoneThreshold: number;
  secondaryNodeEvictionRate: number;
}

export interface TolerationFlags {
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
}

function fraction(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`not a fraction in [0, 1): ${v}`);
  return n;
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`not a number ≥ 0: ${v}`);
  return n;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`not a whole number of seconds ≥ 0: ${v}`);
  return n;
}

/** Adds the node lifecycle controller's flags to a command. */
export function nodeLifecycleOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--node-monitor-grace-period <duration>', 'a node with no heartbeat observed for this long is marked Unknown and tainted unreachable')
      .argParser(positiveDurationMs).default(DEFAULT_NODE_MONITOR_GRACE_MS, `${DEFAULT_NODE_MONITOR_GRACE_MS / 1000}s`))
    .addOption(new Option('--unhealthy-zone-threshold <fraction>', 'more than this fraction of all nodes, or of a zone\'s, silent at once holds evictions')
      .argParser(fraction).default(DEFAULT_UNHEALTHY_THRESHOLD))
    .addOption(new Option('--secondary-node-eviction-rate <nodes-per-second>', 'nodes tainted for eviction per second while evictions are held (0: none)')
      .argParser(nonNegative).default(DEFAULT_SECONDARY_EVICTION_RATE));
}

export function nodeLifecycleFromFlags(flags: Partial<NodeLifecycleFlags>): NodeLifecycleOptions {
  return {
    ...(flags.nodeMonitorGracePeriod !== undefined ? { gracePeriodMs: flags.nodeMonitorGracePeriod } : {}),
    ...(flags.unhealthyZoneThreshold !== undefined ? { unhealthyZoneThreshold: flags.unhealthyZoneThreshold } : {}),
    ...(flags.secondaryNodeEvictionRate !== undefined ? { secondaryEvictionRate: flags.secondaryNodeEvictionRate } : {}),
  };
}

/** Adds the pod toleration defaults to an API server command. */
export function tolerationOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--default-not-ready-toleration-seconds <s>', 'tolerationSeconds of the not-ready:NoExecute toleration added to every pod that has none')
      .argParser(seconds).default(DEFAULT_NOT_READY_TOLERATION_SECONDS))
    .addOption(new Option('--default-unreachable-toleration-seconds <s>', 'tolerationSeconds of the unreachable:NoExecute toleration added to every pod that has none')
      .argParser(seconds).default(DEFAULT_UNREACHABLE_TOLERATION_SECONDS));
}

export function tolerationsFromFlags(flags: Partial<TolerationFlags>): DefaultTolerations {
  return {
    notReadySeconds: flags.defaultNotReadyTolerationSeconds ?? DEFAULT_NOT_READY_TOLERATION_SECONDS,
    unreachableSeconds: flags.defaultUnreachableTolerationSeconds ?? DEFAULT_UNREACHABLE_TOLERATION_SECONDS,
  };
}
