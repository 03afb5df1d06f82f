// The revision a restored store starts at (a pure function, table-tested in
// test/ops/snapshot/units.test.ts).
//
// What must hold: every revision the restored cluster hands out is above every revision a client
// could have seen from the cluster that was lost, so that a watcher or informer holding an old
// resourceVersion never takes a new change for one it already saw (or waits for a "future"
// revision that silently skips changes). Together with marking everything at or below the new
// revision compacted (the callers do that), a watch from any old resourceVersion is answered 410
// Gone, and the client relists.
//
// What is known at restore time:
// - the snapshot's revision S (recorded in the file). The lost cluster went on past S: every
//   write after the snapshot was taken took a revision the snapshot does not have;
// - sometimes the revision the replaced store had: the SQLite file or the etcd member data that
//   the restore moves aside in this data dir (`knownRevisions`). That is a lower bound on what
//   was handed out, not the maximum: on HA another member may have been ahead of this one, and a
//   fresh data dir (a new machine) knows nothing at all;
// - the time the snapshot was taken and the time now.
// So the one bound that holds without knowing the lost cluster is a rate bound: the lost cluster
// cannot have handed out more than MAX_REVISIONS_PER_SECOND revisions per second between the
// snapshot and now (it was lost at the latest now). A revision is one committed write
// transaction; on the 2-core machines Trireme runs on, an etcd cluster commits at most ~6,100
// puts/s and the SQLite store ~37,000 creates/s (as measured there), so 100,000/s is a ceiling
// with room for faster disks. The time since the snapshot is read from two clocks (the
// saving server's `created`, the restoring server's now), so CLOCK_SKEW_ALLOWANCE_S is added.
//
//   target = max( S + minBump,
//                 S + ceil((max(0, now − created)/1000 + CLOCK_SKEW_ALLOWANCE_S) × MAX_REVISIONS_PER_SECOND),
//                 max(knownRevisions) + minBump )
//
// The jump is free on both stores (SQLite: one meta row; etcd: the compact revision written into
// the restored member's backend, see etcd-file.ts `markEtcdCompacted`), so erring high costs
// nothing but larger numbers: a snapshot six hours old restores at S + ~2.2e9; revisions stay
// exact in a JavaScript number (2^53) for millions of such restores. (Kubernetes' own etcd
// restore guide suggests a fixed bump of 1e9 for the same purpose.)
// Does not: prove the rate ceiling on hardware faster than assumed (`--restore-revision-bump`
// raises the floor), or help a client whose clock-free state holds a revision from a different
// cluster altogether.

/** More revisions per second than any Trireme store commits on the machines it runs on. */
export const MAX_REVISIONS_PER_SECOND = 100_000;
/** Allowed difference between the clock of the server that saved and the one that restores. */
export const CLOCK_SKEW_ALLOWANCE_S = 600;
/** The default floor of the jump (--restore-revision-bump). */
export const DEFAULT_REVISION_BUMP = 100_000;

export interface RestoreRevisionInput {
  /** The snapshot's revision. */
  snapshotRevision: number;
  /** When the snapshot was taken (ms since the epoch, the saving server's clock). */
  snapshotCreated: number;
  /** Now (ms since the epoch, this server's clock). */
  now: number;
  /** Revisions the replaced store of this data dir had, if any. */
  knownRevisions: number[];
  /** The least jump past any known revision. */
  minBump: number;
}

export interface RestoreRevision {
  /** The restored store's revision: its next write is numbered target + 1. */
  target: number;
  /** Which bound decided it (for the log). */
  by: 'rate-bound' | 'floor' | 'replaced-store';
}

export function restoreRevision(i: RestoreRevisionInput): RestoreRevision {
  const elapsedS = Math.max(0, i.now - i.snapshotCreated) / 1000 + CLOCK_SKEW_ALLOWANCE_S;
  const candidates: [number, RestoreRevision['by']][] = [
    [i.snapshotRevision + i.minBump, 'floor'],
    [i.snapshotRevision + Math.ceil(elapsedS * MAX_REVISIONS_PER_SECOND), 'rate-bound'],
  ];
  const known = i.knownRevisions.filter((r) => Number.isFinite(r));
  if (known.length > 0) candidates.push([Math.max(...known) + i.minBump, 'replaced-store']);
  let best = candidates[0]!;
  for (const c of candidates) if (c[0] > best[0]) best = c;
  if (!Number.isSafeInteger(best[0])) throw new RangeError(`restore revision ${best[0]} is past 2^53`);
  return { target: best[0], by: best[1] };
}
