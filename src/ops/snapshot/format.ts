// The snapshot file: one self-describing file per snapshot.
//
//   TRIREME-SNAPSHOT/1\n
//   <manifest, one line of JSON>\n
//   <body: gzip of  "<index length>\n" + index JSON + the store's own file>
//
// The manifest says what the snapshot holds (store kind, revision, object count, checksum,
// created, server); the index lists every object (key, mod revision, SHA-256 of its value) and
// the cluster secrets (CA, CA key, join token) a restore onto a new data dir needs; the store's
// file is the SQLite online backup or etcd's maintenance snapshot, byte for byte.
// Guarantees: `manifest.sha256` is the SHA-256 of the body exactly as stored (so any changed,
// missing or added byte after the manifest is refused by `extractSnapshot` with one line naming
// the file and both sums, before anything is decompressed); files are written to a temporary
// name and renamed, 0600, so a crash never leaves a half-written snapshot under its name.
// Does not: protect the manifest line itself (verify compares it with the body's index), or
// encrypt anything: a snapshot holds the CA key and every Secret, keep it as private as the
// data dir.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { TriremeError } from '../../errors.js';

export const SNAPSHOT_MAGIC = 'TRIREME-SNAPSHOT/1';
export const SNAPSHOT_SUFFIX = '.snapshot';

export type SnapshotStoreKind = 'sqlite' | 'etcd';

export interface SnapshotManifest {
  name: string;
  store: SnapshotStoreKind;
  /** The store revision the snapshot is consistent with. */
  revision: number;
  /** Objects (store keys) in the snapshot; for etcd, the keys under `etcdPrefix`. */
  objectCount: number;
  /** Bytes of the store's file before compression. */
  storeBytes: number;
  /** Bytes of the compressed body (the file is this plus the two header lines). */
  bodyBytes: number;
  /** SHA-256 (hex) of the body as stored. */
  sha256: string;
  /** ISO time the snapshot was taken. */
  created: string;
  /** The server (node name) that took it. */
  server: string;
  /** etcd only: the key prefix the cluster lives under. */
  etcdPrefix?: string;
}

/** One object as the index records it: key, mod revision, SHA-256 (base64) of the value. */
export type IndexEntry = [key: string, modRevision: number, valueSha256: string];

export interface SnapshotIndex {
  revision: number;
  objects: IndexEntry[];
  /** Data-dir-relative path → content (tls/ca.crt, tls/ca.key, token). */
  secrets: Record<string, string>;
}

export function valueDigest(value: string): string {
  return createHash('sha256').update(value).digest('base64');
}

/**
 * Writes `path` from the store's file `storeFile` and its index; `manifest` gets the sizes and
 * the checksum filled in and is returned.
 */
export async function writeSnapshotFile(path: string, manifest: Omit<SnapshotManifest, 'storeBytes' | 'bodyBytes' | 'sha256'>, index: SnapshotIndex, storeFile: string): Promise<SnapshotManifest> {
  const storeBytes = (await stat(storeFile)).size;
  const bodyTmp = `${path}.body.tmp`;
  const tmp = `${path}.tmp`;
  try {
    const indexJson = Buffer.from(JSON.stringify(index));
    const hash = createHash('sha256');
    let bodyBytes = 0;
    const gzip = createGzip({ level: 6 });
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) { hash.update(chunk); bodyBytes += chunk.length; cb(null, chunk); },
    });
    const done = pipeline(gzip, counted, createWriteStream(bodyTmp, { mode: 0o600 }));
    gzip.write(Buffer.from(`${indexJson.length}\n`));
    gzip.write(indexJson);
    await pipeline(createReadStream(storeFile), new Writable({
      write(chunk: Buffer, _enc, cb) { if (gzip.write(chunk)) cb(); else gzip.once('drain', () => cb()); },
      final(cb) { gzip.end(); cb(); },
    }));
    await done;
    const full: SnapshotManifest = { ...manifest, storeBytes, bodyBytes, sha256: hash.digest('hex') };
    const out = createWriteStream(tmp, { mode: 0o600 });
    out.write(`${SNAPSHOT_MAGIC}\n${JSON.stringify(full)}\n`);
    await pipeline(createReadStream(bodyTmp), out);
    const fh = await open(tmp, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
    await rename(tmp, path);
    return full;
  } finally {
    await rm(bodyTmp, { force: true });
    await rm(tmp, { force: true });
  }
}

const corrupt = (path: string, why: string): TriremeError =>
  new TriremeError('BadRequest', `snapshot ${path} is corrupt: ${why}; it was not used`, { context: { path, corrupt: true } });

/** The manifest of a snapshot file and where its body starts; a file that is not a snapshot is refused. */
export async function readManifest(path: string): Promise<{ manifest: SnapshotManifest; bodyOffset: number }> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new TriremeError(e.code === 'ENOENT' ? 'NotFound' : 'BadRequest', `cannot read snapshot ${path}: ${e.message}`, { context: { path } });
  });
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0).catch((e: NodeJS.ErrnoException) => {
      throw new TriremeError('BadRequest', `cannot read snapshot ${path}: ${e.message}`, { context: { path } });
    });
    const head = buf.subarray(0, bytesRead);
    const first = head.indexOf(0x0a);
    if (first < 0 || head.subarray(0, first).toString('utf8') !== SNAPSHOT_MAGIC) throw corrupt(path, `it does not start with ${SNAPSHOT_MAGIC}`);
    const second = head.indexOf(0x0a, first + 1);
    if (second < 0) throw corrupt(path, 'its manifest line is cut short');
    let manifest: SnapshotManifest;
    try {
      manifest = JSON.parse(head.subarray(first + 1, second).toString('utf8')) as SnapshotManifest;
    } catch {
      throw corrupt(path, 'its manifest line is not JSON');
    }
    if (typeof manifest.sha256 !== 'string' || (manifest.store !== 'sqlite' && manifest.store !== 'etcd') || typeof manifest.revision !== 'number') {
      throw corrupt(path, 'its manifest lacks sha256, store or revision');
    }
    return { manifest, bodyOffset: second + 1 };
  } finally {
    await fh.close();
  }
}

/** Checks the body's SHA-256 against the manifest; a mismatch is a one-line BadRequest. */
export async function checkSnapshot(path: string): Promise<{ manifest: SnapshotManifest; bodyOffset: number }> {
  const read = await readManifest(path);
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(createReadStream(path, { start: read.bodyOffset }), new Writable({
    write(chunk: Buffer, _enc, cb) { hash.update(chunk); bytes += chunk.length; cb(); },
  }));
  const actual = hash.digest('hex');
  if (actual !== read.manifest.sha256) {
    throw corrupt(path, `the SHA-256 of its contents is ${actual.slice(0, 16)}…, its manifest says ${read.manifest.sha256.slice(0, 16)}… (${bytes} of ${read.manifest.bodyBytes} bytes)`);
  }
  return read;
}

/**
 * Checks the checksum, then decompresses the store's file to `storeOut` and returns the
 * manifest and the index.
 */
export async function extractSnapshot(path: string, storeOut: string): Promise<{ manifest: SnapshotManifest; index: SnapshotIndex }> {
  const { manifest, bodyOffset } = await checkSnapshot(path);
  let head: Buffer = Buffer.alloc(0);
  let indexLen = -1;
  let index: SnapshotIndex | undefined;
  const out = createWriteStream(storeOut, { mode: 0o600 });
  const split = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (index !== undefined) { cb(null, chunk); return; }
      head = Buffer.concat([head, chunk]);
      if (indexLen < 0) {
        const nl = head.indexOf(0x0a);
        if (nl < 0) { cb(); return; }
        indexLen = Number(head.subarray(0, nl).toString('utf8'));
        head = head.subarray(nl + 1);
      }
      if (head.length < indexLen) { cb(); return; }
      try {
        index = JSON.parse(head.subarray(0, indexLen).toString('utf8')) as SnapshotIndex;
      } catch (e) {
        cb(e as Error);
        return;
      }
      const rest = head.subarray(indexLen);
      head = Buffer.alloc(0);
      cb(null, rest);
    },
  });
  try {
    await pipeline(createReadStream(path, { start: bodyOffset }), createGunzip(), split, out);
  } catch (e) {
    throw corrupt(path, `its body does not decompress (${(e as Error).message})`);
  }
  if (index === undefined) throw corrupt(path, 'its body ends before its index');
  return { manifest, index };
}
