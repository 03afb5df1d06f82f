// `trireme snapshot verify FILE`: the file's checksum, then a restore into a scratch store (a
// copy of the SQLite file, or a throw-away etcd restored by etcdctl) and a comparison of every
// object in it with the index recorded when the snapshot was taken.
// Guarantees: a file whose checksum does not match is refused before anything is restored
// (format.ts); every object is compared by key, mod revision and SHA-256 of its value, and the
// revision and count with the manifest; the scratch store and its files are gone afterwards.
// Does not: compare with a live cluster (the drill tests do), or change the file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listEtcdAt, openScratchEtcd } from './etcd-file.js';
import { extractSnapshot, valueDigest, type SnapshotIndex, type SnapshotManifest } from './format.js';
import { readSqliteFile, type StoredObject } from './sqlite-file.js';

export interface VerifyReport {
  manifest: SnapshotManifest;
  /** Objects found in the scratch store. */
  restored: number;
  /** Empty when everything matched. */
  problems: string[];
}

/** What differs between the index and the objects a restore produced (pure). */
export function compareWithIndex(manifest: SnapshotManifest, index: SnapshotIndex, restored: { revision: number; objects: StoredObject[] }): string[] {
  const problems: string[] = [];
  if (index.revision !== manifest.revision) problems.push(`the index is at revision ${index.revision}, the manifest says ${manifest.revision}`);
  if (restored.revision !== manifest.revision) problems.push(`the restored store is at revision ${restored.revision}, the manifest says ${manifest.revision}`);
  if (index.objects.length !== manifest.objectCount) problems.push(`the index lists ${index.objects.length} objects, the manifest says ${manifest.objectCount}`);
  const got = new Map(restored.objects.map((o) => [o.key, o]));
  for (const [key, modRevision, digest] of index.objects) {
    const o = got.get(key);
    if (o === undefined) { problems.push(`${key}: missing`); continue; }
    got.delete(key);
    if (o.modRevision !== modRevision) problems.push(`${key}: mod revision ${o.modRevision}, the index says ${modRevision}`);
    else if (valueDigest(o.value) !== digest) problems.push(`${key}: its value differs from the one indexed`);
  }
  for (const key of got.keys()) problems.push(`${key}: present but not in the index`);
  return problems;
}

/** The objects and revision a snapshot's store file holds, read from a scratch restore of it. */
export async function readStoreFile(manifest: SnapshotManifest, storeFile: string, work: string, scratchHost = '127.0.0.1'): Promise<{ revision: number; objects: StoredObject[] }> {
  if (manifest.store === 'sqlite') return readSqliteFile(storeFile);
  const etcd = await openScratchEtcd(storeFile, join(work, 'etcd'), scratchHost);
  try {
    const revision = Number((await etcd.client.maintenance.status()).header.revision);
    return { revision, objects: await listEtcdAt(etcd.client, manifest.etcdPrefix ?? '', revision) };
  } finally {
    await etcd.stop();
  }
}

export async function verifySnapshot(path: string, opts: { workDir?: string; scratchHost?: string } = {}): Promise<VerifyReport> {
  const work = await mkdtemp(join(opts.workDir ?? tmpdir(), 'trireme-verify-'));
  try {
    const storeFile = join(work, 'store.db');
    const { manifest, index } = await extractSnapshot(path, storeFile);
    const restored = await readStoreFile(manifest, storeFile, work, opts.scratchHost);
    return { manifest, restored: restored.objects.length, problems: compareWithIndex(manifest, index, restored) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
