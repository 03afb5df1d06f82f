// Node health from heartbeats (pure): when did the node last show a sign of life, and which
// conditions the controller must write when that is longer ago than the grace period.
// Guarantees: the heartbeat is the newest of the Lease's renewTime and the Ready condition's
// lastHeartbeatTime (either proves the agent alive), falling back to the Node's creation time
// when the agent never posted anything; a stale node gets Ready, MemoryPressure, DiskPressure
// and PIDPressure set to Unknown (missing ones added), and nothing is rewritten when they are
// Unknown already. Does not: mark a node healthy again — the agent posts its own conditions —
// nor guard against clock skew between agent and controller (both timestamps are compared with
// this controller's clock, as the brief's design requires; keep node clocks in sync).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { NodeCondition } from 'kubernetes-types/core/v1.js';
import type { NodeObj } from '../common/types.js';
import { kubeTime, parseKubeTime } from '../../api/time.js';

/** How long a node may be silent before it is considered unreachable (Kubernetes: 40 s). */
export const DEFAULT_NODE_MONITOR_GRACE_MS = 8_000;

export const WATCHED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;
export const REASON_UNKNOWN = 'NodeStatusUnknown';
export const MESSAGE_UNKNOWN = 'Kubelet stopped posting node status.';
export const REASON_NEVER_UPDATED = 'NodeStatusNeverUpdated';
export const MESSAGE_NEVER_UPDATED = 'Kubelet never posted node status.';

export function condition(node: NodeObj, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** The node's last sign of life in ms (see header), or undefined if it has no times at all. */
export function lastHeartbeatMs(node: NodeObj, lease: Lease | undefined): number | undefined {
  const times = [parseKubeTime(lease?.spec?.renewTime), parseKubeTime(condition(node, 'Ready')?.lastHeartbeatTime)]
    .filter((t): t is number => t !== undefined);
  if (times.length) return Math.max(...times);
  return parseKubeTime(node.metadata?.creationTimestamp);
}

export interface HealthDecision {
  /** True when the last heartbeat is older than the grace period. */
  stale: boolean;
  /** The full new conditions list to write, when something must change. */
  conditions?: NodeCondition[];
  /** For a fresh node: ms until it turns stale unless it renews (re-check then). */
  recheckInMs?: number;
}

/**
 * `observedSince`: when this controller first saw the node. A node counts as alive at least
 * until then, so a controller (re)started after an outage gives every agent a full grace period
 * to renew before judging it, as Kubernetes does with its probe timestamps.
 */
export function decideNodeHealth(node: NodeObj, lease: Lease | undefined, now: number, graceMs = DEFAULT_NODE_MONITOR_GRACE_MS, observedSince = -Infinity): HealthDecision {
  const hb = Math.max(lastHeartbeatMs(node, lease) ?? now, observedSince);
  const staleAt = hb + graceMs;
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
