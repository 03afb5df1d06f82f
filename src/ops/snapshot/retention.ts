// Which snapshots retention removes: a pure function of the snapshots a server holds and how
// many to keep, table-tested.
// Guarantees: the `keep` newest (by creation time, then name) are kept, every older one is
// pruned; `keep` below 1 is refused, so retention never deletes the last snapshot; the order of
// the input does not matter.
// Does not: look at other servers' snapshots (each server keeps and prunes its own copies).
import { TriremeError } from '../../errors.js';

export interface RetainedSnapshot {
  name: string;
  /** Creation time, ms since the epoch. */
  created: number;
}

export function planPrune<T extends RetainedSnapshot>(snapshots: readonly T[], keep: number): { keep: T[]; prune: T[] } {
  if (!Number.isInteger(keep) || keep < 1) throw new TriremeError('BadRequest', `snapshot retention must be a whole number of at least 1, got ${keep}`);
  const newestFirst = [...snapshots].sort((a, b) => b.created - a.created || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  return { keep: newestFirst.slice(0, keep), prune: newestFirst.slice(keep) };
}
