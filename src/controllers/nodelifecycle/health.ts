// Node health from observed heartbeats (pure), as Kubernetes' node lifecycle controller does with
// its probe timestamps: the controller remembers, per node, the last Lease `renewTime` and Ready
// `lastHeartbeatTime` it saw and the moment (its own clock) it saw either change; a node is
// silent when that moment is longer ago than the grace period. Guarantees: agent-written times
// are only compared for equality, never with the controller's clock, so an agent whose clock is
// minutes ahead or behind is judged like any other; the first sighting of a node counts as a
// heartbeat, so a controller (re)started after an outage gives every node a full grace period;
// a value that disappears (Lease deleted) is no sign of life; a silent node gets Ready,
// MemoryPressure, DiskPressure and PIDPressure set to Unknown (missing ones added), and nothing
// is rewritten when they are Unknown already. Does not: mark a node healthy again (the agent
// posts its own conditions), or keep the probes (the controller holds them).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { NodeCondition } from 'kubernetes-types/core/v1.js';
import type { NodeObj } from '../common/types.js';
import { kubeTime } from '../../api/time.js';

/**
 * How long a node may be silent before it is unreachable (Kubernetes: 40 s). 5 s = a heartbeat
 * blip of 3 s + the agent's 1 s renew interval + up to 1 s for the renewal to reach this
 * controller's cache: a blip that short never makes a node Unknown (docs/controllers.md).
 */
export const DEFAULT_NODE_MONITOR_GRACE_MS = 5_000;

export const WATCHED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;
export const REASON_UNKNOWN = 'NodeStatusUnknown';
export const MESSAGE_UNKNOWN = 'Kubelet stopped posting node status.';
export const REASON_NEVER_UPDATED = 'NodeStatusNeverUpdated';
export const MESSAGE_NEVER_UPDATED = 'Kubelet never posted node status.';

export function condition(node: NodeObj, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** What the controller last saw of a node's heartbeats, and when (its own clock) it saw them change. */
export interface HeartbeatProbe {
  /** The Lease's renewTime as last seen: the agent's clock, compared for equality only. */
  leaseRenewTime?: string;
  /** The Ready condition's lastHeartbeatTime as last seen (agent-written). */
  readyHeartbeat?: string;
  /** Controller-clock ms of the last observed change (or of the first sighting). */
  observedAt: number;
}

/** The agent's own Ready heartbeat: not the one this controller filled in for a node that never posted. */
function readyHeartbeat(node: NodeObj): string | undefined {
  const ready = condition(node, 'Ready');
  return ready && ready.reason !== REASON_NEVER_UPDATED ? (ready.lastHeartbeatTime ?? undefined) : undefined;
}

/** The probe after looking at the node and its Lease at `now` (prev undefined: first sighting). */
export function observeHeartbeat(prev: HeartbeatProbe | undefined, node: NodeObj, lease: Lease | undefined, now: number): HeartbeatProbe {
  const seen = { leaseRenewTime: lease?.spec?.renewTime ?? undefined, readyHeartbeat: readyHeartbeat(node) };
  if (!prev) return { ...seen, observedAt: now };
  if (seen.leaseRenewTime === prev.leaseRenewTime && seen.readyHeartbeat === prev.readyHeartbeat) return prev;
  // Any new value is a write by the agent, whichever way its clock went; a vanished one is not.
  const renewed = (seen.leaseRenewTime !== undefined && seen.leaseRenewTime !== prev.leaseRenewTime)
    || (seen.readyHeartbeat !== undefined && seen.readyHeartbeat !== prev.readyHeartbeat);
  return { ...seen, observedAt: renewed ? now : prev.observedAt };
}

/** When the node turns (or turned) silent: strictly later than this it is. */
export const silentAfter = (probe: HeartbeatProbe, graceMs: number): number => probe.observedAt + graceMs;

export interface HealthDecision {
  /** True when no heartbeat change was observed for longer than the grace period. */
  stale: boolean;
  /** The full new conditions list to write, when something must change. */
  conditions?: NodeCondition[];
  /** For a fresh node: ms until it turns stale unless it renews (re-check then). */
  recheckInMs?: number;
}

export function decideNodeHealth(node: NodeObj, probe: HeartbeatProbe, now: number, graceMs = DEFAULT_NODE_MONITOR_GRACE_MS): HealthDecision {
  const staleAt = silentAfter(probe, graceMs);
  // Strictly older than the grace period: a heartbeat exactly `grace` old is still fresh.
  if (now <= staleAt) return { stale: false, recheckInMs: staleAt - now + 1 };
  const nowTime = kubeTime(now);
  const existing = node.status?.conditions ?? [];
  let changed = false;
  const out: NodeCondition[] = existing.map((c) => {
    if (!(WATCHED_CONDITIONS as readonly string[]).includes(c.type) || c.status === 'Unknown') return c;
    changed = true;
    return { ...c, status: 'Unknown', reason: REASON_UNKNOWN, message: MESSAGE_UNKNOWN, lastTransitionTime: nowTime };
  });
  for (const type of WATCHED_CONDITIONS) {
    if (existing.some((c) => c.type === type)) continue;
    changed = true;
    out.push({
      type, status: 'Unknown', reason: REASON_NEVER_UPDATED, message: MESSAGE_NEVER_UPDATED,
      lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: nowTime,
    });
  }
  return changed ? { stale: true, conditions: out } : { stale: true };
}
