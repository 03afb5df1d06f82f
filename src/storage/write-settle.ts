// What a write whose answer never came did, decided from the key as read after a write barrier
// (docs/storage.md, "Writes across a leader change").
//
// Every etcd write of the store also compares the barrier key's mod_revision with the value it
// knew when it was sent. Once a put of the barrier key is confirmed, such a write can no longer
// apply (its compare fails forever: revisions only grow), and one that applied before is visible
// to a linearizable read. So the key, read after the barrier, settles the write:
// - `applied`: the key holds exactly what we wrote (our values are unique: an object's uid and
//   timestamps are in it); the write is acknowledged as if its answer had come;
// - `retry`: the key shows the write did not apply (a create's key absent, an update's or a
//   delete's key still at the revision it expected); sending it again is safe;
// - `unknown`: the key moved in a way that could be ours or someone else's; the write stays
//   unknown (Timeout, 504), as before.
// Pure. Does not: tell our write apart from another writer's identical bytes (both count as
// applied), or notice that another client deleted our applied create before the barrier (the key
// is absent: we create it again, as a client retrying a 504 would).

export interface SeenKey {
  value: string;
  createRevision: number;
  modRevision: number;
}

export type PendingWrite =
  | { op: 'create'; value: string }
  | { op: 'update'; value: string; expected?: number }
  | { op: 'delete'; expected?: number };

export type Settled = { kind: 'applied'; seen: SeenKey } | { kind: 'retry' } | { kind: 'unknown'; why: string };

export function settleWrite(write: PendingWrite, seen: SeenKey | undefined): Settled {
  switch (write.op) {
    case 'create':
      if (!seen) return { kind: 'retry' };
      if (seen.value === write.value) return { kind: 'applied', seen };
      // Someone else's value: ours did not apply, or applied and was replaced. The retry then
      // answers AlreadyExists, which is right in the first case and harmless in the second.
      return { kind: 'retry' };
    case 'update':
      if (seen && write.expected !== undefined && seen.modRevision === write.expected) return { kind: 'retry' };
      if (seen && seen.value === write.value) return { kind: 'applied', seen };
      return { kind: 'unknown', why: seen ? 'the key was changed meanwhile' : 'the key was deleted meanwhile' };
    case 'delete':
      if (seen && (write.expected === undefined || seen.modRevision === write.expected)) return { kind: 'retry' };
      return { kind: 'unknown', why: seen ? 'the key was changed meanwhile' : 'the key is gone, by this delete or another' };
  }
}
