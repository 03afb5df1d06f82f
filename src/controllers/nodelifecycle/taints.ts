// The taints the node lifecycle controller owns (pure): `node.kubernetes.io/not-ready` and
// `unreachable` (NoExecute) follow the Ready condition, `unschedulable` (NoSchedule) follows
// `spec.unschedulable`. Guarantees: other taints are kept untouched and in order; a taint that
// stays keeps its `timeAdded` (eviction deadlines count from it); not-ready and unreachable
// replace each other, as in Kubernetes. Does not: decide Ready itself (health.ts and the agent
// write it); a node without a Ready condition keeps its NoExecute taints as they are.
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { NodeObj } from '../common/types.js';
import { condition } from './health.js';
import { kubeTime } from '../../api/time.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

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

export function decideTaints(node: NodeObj, now: number): TaintDecision {
  const current = node.spec?.taints ?? [];
  const want: Taint[] = [];
  const owned: Array<[string, string]> = [[TAINT_UNSCHEDULABLE, 'NoSchedule']];
  const noExec = wantedNoExecute(node);
  if (noExec !== undefined) owned.push([TAINT_NOT_READY, 'NoExecute'], [TAINT_UNREACHABLE, 'NoExecute']);
  if (noExec) want.push({ key: noExec, effect: 'NoExecute', timeAdded: kubeTime(now) });
  // Kubernetes does not stamp timeAdded on NoSchedule taints.
  if (node.spec?.unschedulable === true) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });

  const isOwned = (t: Taint) => owned.some(([k, e]) => same(t, k, e));
  const keep = current.filter((t) => !isOwned(t) || want.some((w) => same(t, w.key, w.effect)));
  const removed = current.filter((t) => !keep.includes(t));
  const added = want.filter((w) => !current.some((t) => same(t, w.key, w.effect)));
  if (!removed.length && !added.length) return { added, removed };
  return { taints: [...keep, ...added], added, removed };
}
