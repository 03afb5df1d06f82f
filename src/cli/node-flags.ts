// The node-status flags of `trireme agent` and `trireme server` (its local agent): pressure
// thresholds, the system reservation and the pressure transition period, in the kubelet's
// syntax (src/agent/node/thresholds.ts), and the node Lease's renew interval. Guarantees: bad values stop the command before anything
// starts, with a one-line message naming the bad item.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { NodeConditionsConfig } from '../agent/node/heartbeat.js';
import { DEFAULT_AGENT_TIMINGS, type AgentTimings } from '../agent/agent.js';
import {
  DEFAULT_PRESSURE_TRANSITION_MS, DEFAULT_THRESHOLDS_FLAG, NO_RESERVATION, parseSystemReserved, parseThresholds, type SystemReserved, type Thresholds,
} from '../agent/node/thresholds.js';

export interface NodeConditionFlags {
  pressureThresholds: Thresholds;
  systemReserved: SystemReserved;
  pressureTransitionPeriod: number;
  nodeLeaseRenewInterval: number;
  resourceStatsPeriod: number;
}

function invalidArgument<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (e) {
      throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
    }
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`300ms`, `30s`, `5m`, `1h30m`, `0`) in ms. */
export function durationMs(v: string): number {
  if (v === '0') return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v)) throw new InvalidArgumentError(`not a duration (like 30s, 5m, 1h30m): ${v}`);
  let ms = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return ms;
}

/** A duration (as durationMs) that must be more than 0. */
export function positiveDurationMs(v: string): number {
  const ms = durationMs(v);
  if (ms <= 0) throw new InvalidArgumentError(`must be more than 0: ${v}`);
  return ms;
}

/** Adds the node-status flags to a command. */
export function nodeConditionOptions(cmd: Command): Command {
  return cmd
    .option('--pressure-thresholds <list>', `node pressure thresholds, kubelet eviction-signal syntax; given signals replace their default (default "${DEFAULT_THRESHOLDS_FLAG}")`, invalidArgument((v) => parseThresholds(v)))
    .option('--system-reserved <list>', 'resources kept from pods, e.g. cpu=500m,memory=1Gi,ephemeral-storage=1Gi,pid=1000 (default: none)', invalidArgument(parseSystemReserved))
    .addOption(new Option('--pressure-transition-period <duration>', 'how long a pressure condition stays True after its signal cleared')
      .argParser(durationMs).default(DEFAULT_PRESSURE_TRANSITION_MS, '5m'))
    .addOption(new Option('--node-lease-renew-interval <duration>', 'how often the agent renews its node Lease (keep it well below the controller\'s --node-monitor-grace-period)')
      .argParser(positiveDurationMs).default(DEFAULT_AGENT_TIMINGS.leasePeriodMs, `${DEFAULT_AGENT_TIMINGS.leasePeriodMs / 1000}s`))
    .addOption(new Option('--resource-stats-period <duration>', 'how often the agent samples the node\'s and containers\' CPU and memory (the window kubectl top reports)')
      .argParser(positiveDurationMs).default(DEFAULT_AGENT_TIMINGS.statsPeriodMs, `${DEFAULT_AGENT_TIMINGS.statsPeriodMs / 1000}s`));
}

export function agentTimingsFromFlags(flags: Partial<NodeConditionFlags>): Partial<AgentTimings> {
  return {
    ...(flags.nodeLeaseRenewInterval !== undefined ? { leasePeriodMs: flags.nodeLeaseRenewInterval } : {}),
    ...(flags.resourceStatsPeriod !== undefined ? { statsPeriodMs: flags.resourceStatsPeriod } : {}),
  };
}

export function nodeConditionsFromFlags(flags: Partial<NodeConditionFlags>): Partial<NodeConditionsConfig> {
  return {
    ...(flags.pressureThresholds ? { thresholds: flags.pressureThresholds } : {}),
    reserved: flags.systemReserved ?? NO_RESERVATION,
    ...(flags.pressureTransitionPeriod !== undefined ? { transitionMs: flags.pressureTransitionPeriod } : {}),
  };
}
