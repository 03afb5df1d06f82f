// `trireme server`'s flow-control flags (src/apiserver/flow-control.ts), named as Kubernetes'
// API server names the same limits. Guarantees: each is a whole number ≥ 1, or commander refuses
// the command line with one message naming the flag. Does not: change limits of a running server.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_FLOW_LIMITS, type FlowLimits } from '../apiserver/flow-control.js';

export interface FlowFlags {
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  maxWatchesPerUser: number;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a whole number ≥ 1: ${v}`);
  return n;
}

export function flowOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--max-requests-inflight <n>', 'read-only requests in flight per priority level (system: nodes and components; workload: everyone else); more get 429. system:masters is exempt')
      .argParser(positiveInt).default(DEFAULT_FLOW_LIMITS.readOnly))
    .addOption(new Option('--max-mutating-requests-inflight <n>', 'mutating requests in flight per priority level; more get 429')
      .argParser(positiveInt).default(DEFAULT_FLOW_LIMITS.mutating))
    .addOption(new Option('--max-watches-per-user <n>', 'watches, exec sessions and followed logs one user may have open (system:masters: no cap)')
      .argParser(positiveInt).default(DEFAULT_FLOW_LIMITS.watchesPerUser));
}

export function flowLimitsFromFlags(flags: Partial<FlowFlags>): FlowLimits {
  return {
    readOnly: flags.maxRequestsInflight ?? DEFAULT_FLOW_LIMITS.readOnly,
    mutating: flags.maxMutatingRequestsInflight ?? DEFAULT_FLOW_LIMITS.mutating,
    watchesPerUser: flags.maxWatchesPerUser ?? DEFAULT_FLOW_LIMITS.watchesPerUser,
  };
}
