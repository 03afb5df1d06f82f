// etcd snapshots as files: a member's maintenance snapshot streamed to a file, `etcdctl
// snapshot status/restore` on such a file, a throw-away etcd on a restored data dir, the keys
// under a prefix at one revision, and the revision jump of a restore (markEtcdCompacted).
// Guarantees: `snapshotToFile` writes the member's whole backend as etcd sends it, synced, or
// fails and leaves no file; the revision of a snapshot is what `etcdctl snapshot status`
// reads in it (etcd 3.4 sends no header with the stream); a scratch etcd listens only on the
// host it is given, on free ports, and `stop()` kills it and waits for the exit.
// Does not: check etcd's own hash (etcdctl restore does, unless told to skip it).
import { spawn, execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Etcd3, type IOptions } from 'etcd3';
import { TriremeError } from '../../errors.js';
import { freePorts } from '../../util/free-port.js';
import type { EtcdClientTls } from '../../etcd/index.js';
import type { StoredObject } from './sqlite-file.js';

const run = promisify(execFile);
export const ETCDCTL = 'etcdctl';

export function etcdClient(endpoint: string, tls?: EtcdClientTls): Etcd3 {
  const opts: IOptions = {
    hosts: [endpoint],
    ...(tls ? { credentials: { rootCertificate: Buffer.from(tls.caPem), certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) } } : {}),
    grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
  };
  return new Etcd3(opts);
}

/** Streams the member's backend snapshot into `dest`. */
export async function snapshotToFile(client: Etcd3, dest: string): Promise<void> {
  // A grpc-js client stream (the etcd3 typing names only its events).
  const stream = (await client.maintenance.snapshot()) as unknown as NodeJS.ReadableStream;
  const out = createWriteStream(dest, { mode: 0o600 });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (r: { blob: Buffer }) => { if (!out.write(r.blob)) { stream.pause(); out.once('drain', () => stream.resume()); } });
      stream.on('end', () => resolve());
      stream.on('error', reject);
      out.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const fh = await open(dest, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
  } catch (e) {
    out.destroy();
    await rm(dest, { force: true });
    throw new TriremeError('Internal', `etcd snapshot failed: ${(e as Error).message}`, { cause: e });
  }
}

async function etcdctl(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(ETCDCTL, args, { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new TriremeError('BadRequest', 'etcdctl not found on PATH: install it (Debian etcd-client) to save or restore etcd snapshots');
    throw new TriremeError('BadRequest', `etcdctl ${args[0]} ${args[1]} failed: ${(err.stderr ?? err.message).trim().split('\n').pop()}`, { cause: e });
  }
}

/** The revision etcd recorded in a snapshot file. */
export async function snapshotRevision(file: string): Promise<number> {
  const out = JSON.parse(await etcdctl(['snapshot', 'status', file, '--write-out', 'json'])) as { revision?: number };
  if (typeof out.revision !== 'number') throw new TriremeError('BadRequest', `etcdctl snapshot status ${file} reported no revision`);
  return out.revision;
}

/** A new etcd data dir from a snapshot file, as a one-member cluster `name` at `peerUrl`. */
export async function restoreEtcdDataDir(file: string, o: { dataDir: string; name: string; peerUrl: string }): Promise<void> {
  await etcdctl(['snapshot', 'restore', file, '--data-dir', o.dataDir, '--name', o.name,
    '--initial-cluster', `${o.name}=${o.peerUrl}`, '--initial-advertise-peer-urls', o.peerUrl, '--initial-cluster-token', 'trireme-restore']);
}

/** Every key under `prefix` (prefix stripped) at `revision`, 1,000 a page. */
export async function listEtcdAt(client: Etcd3, prefix: string, revision: number): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  const start = Buffer.from(prefix === '' ? '\0' : prefix);
  const end = prefix === '' ? Buffer.from([0]) : prefixEnd(Buffer.from(prefix));
  let from = start;
  for (;;) {
    const res = await client.kv.range({ key: from, range_end: end, limit: 1000, revision: String(revision) });
    for (const kv of res.kvs) objects.push({ key: kv.key.toString('utf8').slice(prefix.length), value: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision) });
    if (!res.more || res.kvs.length === 0) break;
    from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
  }
  return objects;
}

function prefixEnd(p: Buffer): Buffer {
  const end = Buffer.from(p);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) { end[i]! += 1; return end.subarray(0, i + 1); }
  }
  return Buffer.from([0]);
}

const COMPACT_KEYS = ['finishedCompactRev', 'scheduledCompactRev'].map((k) => Buffer.from(k));

/**
 * Offsets of the compact-revision values in an etcd backend file (bbolt): each of etcd's meta
 * keys `finishedCompactRev` / `scheduledCompactRev` followed by its 17-byte value, an mvcc
 * revision (8 bytes main, big-endian, '_', 8 bytes sub = 0). Found by that exact byte pattern,
 * wherever bbolt keeps the meta bucket (inline in the root page, or a page of its own; stale
 * copies in free pages too). Stored object values cannot hold the pattern: Trireme stores JSON,
 * which has no zero bytes.
 */
function compactRevisionOffsets(db: Buffer): { finished: number[]; scheduled: number[] } {
  const found = [[], []] as [number[], number[]];
  COMPACT_KEYS.forEach((k, i) => {
    for (let at = db.indexOf(k); at >= 0; at = db.indexOf(k, at + 1)) {
      const v = at + k.length;
      if (v + 17 <= db.length && db[v + 8] === 0x5f && db.subarray(v + 9, v + 17).every((b) => b === 0)) found[i]!.push(v);
    }
  });
  return { finished: found[0], scheduled: found[1] };
}

/** Whether an etcd backend file records a compaction (the precondition of markEtcdCompacted). */
export async function hasCompactRevision(dbFile: string): Promise<boolean> {
  return compactRevisionOffsets(await readFile(dbFile)).finished.length > 0;
}

/**
 * The revision an etcd backend file (a member's member/snap/db, no etcd running on it) stands
 * at: its newest key revision or its compact revision, whichever is higher (as etcd starts it).
 * After a kill it can lag the member's WAL by the writes of etcd's last uncommitted backend batch
 * (100 ms by default): a lower bound of what the member handed out, not the maximum.
 */
export async function etcdBackendRevision(dbFile: string): Promise<number> {
  const db = await readFile(dbFile);
  const compact = compactRevisionOffsets(db).finished.map((v) => Number(db.readBigUInt64BE(v)));
  return Math.max(await snapshotRevision(dbFile), ...compact);
}

/**
 * Raises the revision of a restored etcd backend file that no etcd has open to `revision`, and
 * marks everything before it compacted (what etcdutl's `snapshot restore --bump-revision
 * --mark-compacted` does; etcd 3.4's etcdctl has neither). It rewrites the 8 bytes of the
 * compact revisions in place: etcd's mvcc restore starts the store at max(newest key revision,
 * finished compact revision), so the next write is numbered `revision + 1`, a read or a watch
 * below `revision` fails as compacted, and every current key keeps its value and revisions. Same
 * size, same page layout: bbolt keeps no checksum over data pages. The file must already record
 * a compaction (`hasCompactRevision`; `compactedCopy` makes one that does); `revision` must not be
 * below the file's own revision (the caller passes a target above it).
 */
export async function markEtcdCompacted(dbFile: string, revision: number): Promise<number> {
  const db = await readFile(dbFile);
  const { finished, scheduled } = compactRevisionOffsets(db);
  if (finished.length === 0) throw new TriremeError('Internal', `${dbFile} records no etcd compaction: cannot raise its revision`);
  for (const v of [...finished, ...scheduled]) db.writeBigUInt64BE(BigInt(revision), v);
  const fh = await open(dbFile, 'r+');
  try {
    await fh.write(db, 0, db.length, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return finished.length + scheduled.length;
}

/**
 * A copy of an etcd snapshot file whose backend records a compaction at its own revision: a
 * throw-away etcd restored from `file` in `work` (loopback, free ports) compacts at its head and
 * streams its snapshot to `dest`. Every current key keeps its value and revisions; only history
 * goes, which a restore drops anyway.
 */
export async function compactedCopy(file: string, dest: string, work: string, host = '127.0.0.1'): Promise<void> {
  const etcd = await openScratchEtcd(file, work, host);
  try {
    const head = (await etcd.client.maintenance.status()).header.revision;
    await etcd.client.kv.compact({ revision: head, physical: true });
    await snapshotToFile(etcd.client, dest);
  } finally {
    await etcd.stop();
  }
}

/**
 * A throw-away etcd restored from a snapshot file into `dir`, listening on free ports of `host`
 * (plain HTTP, loopback), for reading what the snapshot holds.
 */
export async function openScratchEtcd(file: string, dir: string, host = '127.0.0.1'): Promise<{ client: Etcd3; stop(): Promise<void> }> {
  const [clientPort, peerPort] = await freePorts(host, 2);
  const endpoint = `http://${host}:${clientPort}`;
  const peerUrl = `http://${host}:${peerPort}`;
  await restoreEtcdDataDir(file, { dataDir: dir, name: 'scratch', peerUrl });
  const etcd = await runScratchEtcd(dir, 'scratch', endpoint, peerUrl);
  const client = etcdClient(endpoint);
  return { client, stop: async () => { client.close(); await etcd.stop(); } };
}

/** Starts etcd on a data dir restored for `peerUrl`; resolves once it answers. */
export async function runScratchEtcd(dataDir: string, name: string, endpoint: string, peerUrl: string, etcdBinary = 'etcd'): Promise<{ stop(): Promise<void> }> {
  const child = spawn(etcdBinary, [
    '--name', name, '--data-dir', dataDir, '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `${name}=${peerUrl}`,
    '--logger', 'zap', '--log-outputs', 'stderr',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => { tail = (tail + d.toString('utf8')).slice(-2000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const client = etcdClient(endpoint);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new TriremeError('Internal', `scratch etcd exited: ${tail.trim().split('\n').pop() ?? ''}`);
      try {
        await client.maintenance.status({ deadline: Date.now() + 1000 });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new TriremeError('Timeout', `scratch etcd did not answer within 30 s: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    client.close();
  }
  return { stop };
}
