// The pod-safety timing flags of `trireme agent` and `trireme server` (its local agent): the fast
// readiness phase and the node fence (docs/agent.md, "Node fencing"). Guarantees: bad values stop
// the command before anything starts, with a one-line message naming the flag's value; only
// flags given override the agent's defaults (DEFAULT_AGENT_TIMINGS).
import { Option, type Command } from 'commander';
import {
  DEFAULT_FENCE_AFTER_MS, DEFAULT_READINESS_FIRST_SUCCESS_INTERVAL_MS, DEFAULT_SELF_FENCE_AFTER_MS, type AgentTimings,
} from '../agent/agent.js';
import { durationMs } from './node-flags.js';

export interface FenceFlags {
  readinessFirstSuccessInterval?: number;
  fenceAfter?: number;
  selfFenceAfter?: number;
}

const fmt = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

export function fenceOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--readiness-first-success-interval <duration>', `readiness probe interval until a container's first readiness success, then periodSeconds; 0: periodSeconds from the start (default ${fmt(DEFAULT_READINESS_FIRST_SUCCESS_INTERVAL_MS)})`).argParser(durationMs))
    .addOption(new Option('--fence-after <duration>', `node reports failing (or the agent suspended) this long: stop the pods deleted or replaced meanwhile before reporting again (default ${fmt(DEFAULT_FENCE_AFTER_MS)})`).argParser(durationMs))
    .addOption(new Option('--self-fence-after <duration>', `no node report reached the API for this long: stop the pods annotated trireme.io/self-fence=true (default ${fmt(DEFAULT_SELF_FENCE_AFTER_MS)})`).argParser(durationMs));
}

export function fenceTimingsFromFlags(flags: FenceFlags): Partial<AgentTimings> {
  return {
    ...(flags.readinessFirstSuccessInterval !== undefined ? { readinessFirstSuccessIntervalMs: flags.readinessFirstSuccessInterval } : {}),
    ...(flags.fenceAfter !== undefined ? { fenceAfterMs: flags.fenceAfter } : {}),
    ...(flags.selfFenceAfter !== undefined ? { selfFenceAfterMs: flags.selfFenceAfter } : {}),
  };
}
