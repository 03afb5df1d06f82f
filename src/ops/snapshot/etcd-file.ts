// etcd snapshots as files: a member's maintenance snapshot streamed to a file, `etcdctl
// snapshot status/restore` on such a file, a throw-away etcd on a restored data dir, the keys
// under a prefix at one revision, and the revision bump of a restore.
// Guarantees: `snapshotToFile` writes the member's whole backend as etcd sends it, synced, or
// fails and leaves no file; the revision of a snapshot is what `etcdctl snapshot status`
// reads in it (etcd 3.4 sends no header with the stream); a scratch etcd listens only on the
// host it is given, on free ports, and `stop()` kills it and waits for the exit.
// Does not: check etcd's own hash (etcdctl restore does, unless told to skip it).
import { spawn, execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
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

/**
 * Raises the cluster's revision by `margin` (etcd 3.4 has no `--bump-revision`: each put of one
 * reserved key takes one revision; `concurrency` puts in flight), then compacts at the new head
 * so that a watch from any revision before it ends (the watcher relists).
 */
export async function bumpEtcdRevision(client: Etcd3, key: string, margin: number, concurrency = 64): Promise<{ from: number; to: number }> {
  const from = Number((await client.maintenance.status()).header.revision);
  let left = margin;
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      await client.put(key).value('revision bump after a snapshot restore');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, margin)) }, worker));
  const to = Number((await client.maintenance.status()).header.revision);
  await client.kv.compact({ revision: String(to), physical: true });
  return { from, to };
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
