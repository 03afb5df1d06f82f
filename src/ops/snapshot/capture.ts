// Taking a snapshot: the store's own consistent copy (SQLite's online backup API, or an etcd
// member's maintenance snapshot), its index (every object's key, mod revision and value
// digest, at the copy's revision) and the cluster secrets, written as one snapshot file
// (format.ts) named NAME.snapshot in the snapshot dir.
// Guarantees: the index describes exactly the copied file: for SQLite it is read from the
// backup copy itself; for etcd it is the keys under the prefix read at the revision etcdctl
// finds in the snapshot (a range at a past revision is exact unless it was compacted, and then
// the snapshot fails instead of being recorded wrong). Temporary files are removed on every path.
// etcd: a member that never compacted is first compacted at revision 1, which removes nothing
// (there is no history below it) but makes the backend record a compact revision, the value a
// restore rewrites in place to set the restored revision (etcd-file.ts markEtcdCompacted).
// Does not: record the snapshot anywhere else (service.ts does), or prune.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { TriremeError } from '../../errors.js';
import type { Clock } from '../../util/clock.js';
import { listEtcdAt, snapshotRevision, snapshotToFile } from './etcd-file.js';
import { SNAPSHOT_SUFFIX, valueDigest, writeSnapshotFile, type SnapshotIndex, type SnapshotManifest } from './format.js';
import { readSqliteFile, type StoredObject } from './sqlite-file.js';

export type SnapshotSource =
  | { kind: 'sqlite'; backup(dest: string): Promise<void> }
  | { kind: 'etcd'; client: Etcd3; prefix: string };

export interface TakeSnapshotOptions {
  source: SnapshotSource;
  dir: string;
  name: string;
  /** The server (node name) taking it. */
  server: string;
  /** Data-dir-relative path → content of the cluster secrets. */
  secrets: Record<string, string>;
  clock: Clock;
}

const NAME = /^[a-z0-9]([a-z0-9._-]{0,200}[a-z0-9])?$/;

export function checkSnapshotName(name: string): string {
  if (!NAME.test(name)) throw new TriremeError('BadRequest', `snapshot name must be lower-case letters, digits, '.', '_' or '-' (starting and ending with a letter or digit), got ${JSON.stringify(name)}`);
  return name;
}

export function snapshotPath(dir: string, name: string): string {
  return join(dir, `${name}${SNAPSHOT_SUFFIX}`);
}

/** The default name: the server and the time, sortable (trireme-s1-20261202t101500z). */
export function defaultSnapshotName(server: string, now: number, prefix = 'trireme'): string {
  const ts = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
  return `${prefix}-${server}-${ts}`;
}

/** Makes the backend record a compaction without removing any history (see the module comment). */
async function recordCompaction(client: Etcd3): Promise<void> {
  try {
    await client.kv.compact({ revision: '1', physical: false });
  } catch (e) {
    // Compacted past 1 already: the backend records it.
    if (!/required revision has been compacted/.test((e as Error).message)) throw e;
  }
}

export async function takeSnapshot(opts: TakeSnapshotOptions): Promise<{ path: string; manifest: SnapshotManifest }> {
  const name = checkSnapshotName(opts.name);
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const path = snapshotPath(opts.dir, name);
  const work = join(opts.dir, `.tmp-${name}-${process.pid}-${opts.clock.now()}`);
  await mkdir(work, { recursive: true, mode: 0o700 });
  try {
    const storeFile = join(work, opts.source.kind === 'sqlite' ? 'trireme.db' : 'etcd.db');
    const created = new Date(opts.clock.now()).toISOString();
    let revision: number;
    let objects: StoredObject[];
    if (opts.source.kind === 'sqlite') {
      await opts.source.backup(storeFile);
      ({ revision, objects } = readSqliteFile(storeFile));
    } else {
      await recordCompaction(opts.source.client);
      await snapshotToFile(opts.source.client, storeFile);
      revision = await snapshotRevision(storeFile);
      try {
        objects = await listEtcdAt(opts.source.client, opts.source.prefix, revision);
      } catch (e) {
        throw new TriremeError('Conflict', `etcd snapshot at revision ${revision} could not be indexed (${(e as Error).message}); take it again`, { cause: e });
      }
    }
    const index: SnapshotIndex = { revision, objects: objects.map((o) => [o.key, o.modRevision, valueDigest(o.value)]), secrets: opts.secrets };
    const manifest = await writeSnapshotFile(path, {
      name, store: opts.source.kind, revision, objectCount: objects.length, created, server: opts.server,
      ...(opts.source.kind === 'etcd' ? { etcdPrefix: opts.source.prefix } : {}),
    }, index, storeFile);
    return { path, manifest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
