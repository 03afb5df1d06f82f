// The "why no node fits" summary, worded like kube-scheduler's FitError so that users and
// tools recognise it: `0/3 nodes are available: 1 node(s) didn't match pod anti-affinity
// rules, 2 Insufficient cpu.` — one "<count> <reason>" per distinct reason, sorted as strings.
// Guarantees: pure; the same histogram always gives the same message.

export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

export interface FitError {
  numAllNodes: number;
  /** reason → number of nodes that gave it (a node may give several, e.g. cpu and memory). */
  reasons: Map<string, number>;
}

export function fitErrorMessage(err: FitError): string {
  if (err.numAllNodes === 0) return NO_NODES_MESSAGE;
  const parts = [...err.reasons].map(([reason, n]) => `${n} ${reason}`).sort();
  const head = `0/${err.numAllNodes} nodes are available:`;
  return parts.length === 0 ? head : `${head} ${parts.join(', ')}.`;
}
