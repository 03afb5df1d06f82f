// The taints the node lifecycle controller owns (pure), as Kubernetes' node lifecycle controller
// with TaintNodesByCondition: NoExecute `node.kubernetes.io/not-ready` / `unreachable` follow
// the Ready condition (taint-based eviction); NoSchedule taints follow the conditions — Ready
// False → `not-ready`, Ready Unknown → `unreachable`, MemoryPressure / DiskPressure /
// PIDPressure / NetworkUnavailable True → `memory-pressure` / `disk-pressure` / `pid-pressure`
// / `network-unavailable` — and `spec.unschedulable` → `unschedulable`, so the scheduler keeps
// new pods off a sick node. Guarantees: other taints are kept untouched and in order; a taint
// that stays keeps its `timeAdded` (eviction deadlines count from it); not-ready and unreachable
// replace each other, as in Kubernetes; NoSchedule taints carry no timeAdded (Kubernetes stamps
// none); with `holdUnreachable` (the node is not observed silent, or the mass-disruption guard
// holds it) the NoExecute `unreachable` taint is not added and is removed, so no eviction
// deadline runs — the NoSchedule one stays with Ready Unknown. Does not: decide the conditions
// (the agent and health.ts write them); a node without a Ready condition keeps its NoExecute
// taints as they are.
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { NodeObj } from '../common/types.js';
import { condition } from './health.js';
import { kubeTime } from '../../api/time.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** Kubernetes' nodeConditionToTaintKeyStatusMap: condition → status → NoSchedule taint key. */
const CONDITION_TAINTS: ReadonlyArray<[condition: string, status: string, key: string]> = [
  ['Ready', 'False', TAINT_NOT_READY],
  ['Ready', 'Unknown', TAINT_UNREACHABLE],
  ['MemoryPressure', 'True', TAINT_MEMORY_PRESSURE],
  ['DiskPressure', 'True', TAINT_DISK_PRESSURE],
  ['PIDPressure', 'True', TAINT_PID_PRESSURE],
  ['NetworkUnavailable', 'True', TAINT_NETWORK_UNAVAILABLE],
];
const NO_SCHEDULE_KEYS = [...new Set(CONDITION_TAINTS.map(([, , k]) => k)), TAINT_UNSCHEDULABLE];

const same = (a: Taint, key: string, effect: string): boolean => a.key === key && a.effect === effect;

/** The lifecycle NoExecute taint key the Ready status asks for; null = none; undefined = leave. */
function wantedNoExecute(node: NodeObj): string | null | undefined {
  const ready = condition(node, 'Ready');
  if (!ready) return undefined;
  if (ready.status === 'True') return null;
  return ready.status === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
}

export interface TaintDecision {
  /** The full new taint list, or undefined when nothing changes. */
  taints?: Taint[];
  added: Taint[];
  removed: Taint[];
}

export function decideTaints(node: NodeObj, now: number, opts: { holdUnreachable?: boolean } = {}): TaintDecision {
  const current = node.spec?.taints ?? [];
  const want: Taint[] = [];
  const owned: Array<[string, string]> = NO_SCHEDULE_KEYS.map((k) => [k, 'NoSchedule']);
  const noExec = wantedNoExecute(node);
  if (noExec !== undefined) owned.push([TAINT_NOT_READY, 'NoExecute'], [TAINT_UNREACHABLE, 'NoExecute']);
  if (noExec && !(noExec === TAINT_UNREACHABLE && opts.holdUnreachable)) want.push({ key: noExec, effect: 'NoExecute', timeAdded: kubeTime(now) });
  for (const [type, status, key] of CONDITION_TAINTS) {
    if (condition(node, type)?.status === status) want.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable === true) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });

  const isOwned = (t: Taint) => owned.some(([k, e]) => same(t, k, e));
  const keep = current.filter((t) => !isOwned(t) || want.some((w) => same(t, w.key, w.effect)));
  const removed = current.filter((t) => !keep.includes(t));
  const added = want.filter((w) => !current.some((t) => same(t, w.key, w.effect)));
  if (!removed.length && !added.length) return { added, removed };
  return { taints: [...keep, ...added], added, removed };
}
