// bench/snapshot: what a snapshot costs. `node dist/bench/run.js snapshot [--quick] [--sizes 10000,100000] [--stores sqlite,etcd]`.
// 1. Per store (SQLite, a one-member etcd on 127.0.40.41) and size (10k and 100k ConfigMap-sized
//    objects of ~400 bytes, written straight into the store; SQLite's fill without a sync per
//    create, etcd's 100 puts a transaction): the time and size of
//    - a raw copy of the store's files (SQLite: trireme.db and its -wal; etcd: the member's data dir,
//      member/snap/db and member/wal) with the store open, as `cp` would do it;
//    - a save (src/ops/snapshot/capture.ts: online backup or maintenance snapshot, index, gzip, sha256);
//    - a restore (prepareRestore into a fresh data dir: checksum, decompress, revision jump; for etcd
//      also etcdctl restore and the start of etcd on it until it answers at the restored revision),
//    each also as a ratio to the raw copy of the same run.
// 2. The API's latency during a snapshot and without: a real `trireme server` (SQLite; and
//    `--cluster-init` for managed etcd) on 127.0.40.42 holding 10k ConfigMaps, 8 clients in a
//    closed loop of GET + create; p50/p99 over a quiet window, then over a window of back-to-back
//    `POST /trireme/v1/snapshots` (only requests that start while a save runs count).
// Writes bench/results/snapshot.json and prints a summary. Does not: measure a 3-member etcd, or
// a disk other than the one the temporary directory is on.
import { copyFile, cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Agent } from 'node:https';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { takeSnapshot } from '../../src/ops/snapshot/capture.js';
import { etcdClient, runScratchEtcd } from '../../src/ops/snapshot/etcd-file.js';
import { prepareRestore } from '../../src/ops/snapshot/restore.js';
import { DEFAULT_REVISION_BUMP } from '../../src/ops/snapshot/restore-revision.js';
import { SERVER_SECRET_FILES } from '../../src/cluster/server-join.js';
import { systemClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { freePorts } from '../../src/util/free-port.js';
import { cliMain, resultsDir } from '../lib/paths.js';
import { benchTracker, startCliServer } from '../lib/server-process.js';
import { adminAgent, readCredentials, send, sendExpect, type Credentials } from '../lib/https-client.js';

const STORE_HOST = '127.0.40.41';
const API_HOST = '127.0.40.42';
const PREFIX = '/registry';
/** The restore needs the cluster secrets in a snapshot it restores onto a fresh data dir; their content does not matter here. */
const SECRETS = Object.fromEntries(SERVER_SECRET_FILES.map((f) => [f.path, `bench ${f.path}\n`]));

function objectValue(i: number): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, namespace: 'bench', uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, creationTimestamp: '2026-12-02T00:00:00Z', labels: { app: `a${i % 50}`, tier: 'bench' } },
    data: { index: String(i), text: `value-${i}-`.repeat(20).slice(0, 200) },
  });
}

const secs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

async function treeBytes(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let n = 0;
  for (const e of await readdir(path)) n += await treeBytes(join(path, e));
  return n;
}

interface StoreRow {
  store: 'sqlite' | 'etcd';
  objects: number;
  fillS: number;
  /** etcd: `bytes` counts the WAL files etcd preallocates (64 MB each); `dbBytes` is member/snap/db alone. */
  raw: { seconds: number; bytes: number; dbBytes?: number };
  save: { seconds: number; bytes: number; storeBytes: number; ratioTime: number; ratioSize: number };
  /** etcd: `startSeconds` of `seconds` is etcd starting on the restored data dir until it answers. */
  restore: { seconds: number; ratioTime: number; revision: number; snapshotRevision: number; startSeconds?: number };
}

async function sqliteRow(root: string, n: number): Promise<StoreRow> {
  const dir = join(root, `sqlite-${n}`);
  await mkdir(dir, { recursive: true });
  const db = join(dir, 'trireme.db');
  const store = SqliteStore.open(db);
  // The fill only (not measured against anything): without a sync per create, or 100k creates take
  // many minutes on a busy disk. Saves and restores below run with the store's synchronous=FULL.
  const conn = (store as unknown as { db: { pragma(p: string): unknown } }).db;
  try {
    let t0 = process.hrtime.bigint();
    conn.pragma('synchronous = OFF');
    for (let i = 0; i < n; i++) await store.create(`${PREFIX}/configmaps/bench/cm-${i}`, objectValue(i));
    conn.pragma('synchronous = FULL');
    const fillS = secs(t0);
    t0 = process.hrtime.bigint();
    const rawDir = join(dir, 'raw');
    await mkdir(rawDir);
    for (const f of await readdir(dir)) if (f.startsWith('trireme.db')) await copyFile(join(dir, f), join(rawDir, f));
    const raw = { seconds: secs(t0), bytes: await treeBytes(rawDir) };
    t0 = process.hrtime.bigint();
    const snap = await takeSnapshot({ source: { kind: 'sqlite', backup: (d) => store.backup(d) }, dir: join(dir, 'snapshots'), name: 'bench', server: 'bench', secrets: SECRETS, clock: systemClock });
    const saveS = secs(t0);
    const bytes = (await stat(snap.path)).size;
    t0 = process.hrtime.bigint();
    const target = join(dir, 'restored');
    const r = await prepareRestore({ file: snap.path, dataDir: target, snapshotDir: join(target, 'snapshots'), server: 'bench', revisionBump: DEFAULT_REVISION_BUMP, clock: systemClock, logger: createLogger('bench', 'warn') });
    const reopened = SqliteStore.open(join(target, 'trireme.db'));
    const revision = await reopened.currentRevision();
    await reopened.close();
    const restoreS = secs(t0);
    return {
      store: 'sqlite', objects: n, fillS: round(fillS),
      raw: { seconds: round(raw.seconds), bytes: raw.bytes },
      save: { seconds: round(saveS), bytes, storeBytes: snap.manifest.storeBytes, ratioTime: round(saveS / raw.seconds, 1), ratioSize: round(bytes / raw.bytes, 3) },
      restore: { seconds: round(restoreS), ratioTime: round(restoreS / raw.seconds, 1), revision, snapshotRevision: r.manifest.revision },
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function etcdRow(root: string, n: number): Promise<StoreRow> {
  const dir = join(root, `etcd-${n}`);
  await mkdir(dir, { recursive: true });
  const [c, p] = await freePorts(STORE_HOST, 2);
  const endpoint = `http://${STORE_HOST}:${c}`;
  const peerUrl = `http://${STORE_HOST}:${p}`;
  const dataDir = join(dir, 'member-data');
  const etcd = await runScratchEtcd(dataDir, 'bench', endpoint, peerUrl);
  const client = etcdClient(endpoint);
  let restored: { stop(): Promise<void> } | undefined;
  try {
    let t0 = process.hrtime.bigint();
    // 100 puts a transaction (etcd allows 128), 8 transactions in flight.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + 100);
        const ops = [];
        for (let i = from; i < next; i++) ops.push({ request_put: { key: Buffer.from(`${PREFIX}/configmaps/bench/cm-${i}`), value: Buffer.from(objectValue(i)) } });
        await client.kv.txn({ compare: [], success: ops, failure: [] });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const fillS = secs(t0);
    t0 = process.hrtime.bigint();
    const rawDir = join(dir, 'raw');
    await cp(join(dataDir, 'member'), join(rawDir, 'member'), { recursive: true });
    const raw = { seconds: secs(t0), bytes: await treeBytes(rawDir) };
    t0 = process.hrtime.bigint();
    const snap = await takeSnapshot({ source: { kind: 'etcd', client, prefix: PREFIX }, dir: join(dir, 'snapshots'), name: 'bench', server: 'bench', secrets: SECRETS, clock: systemClock });
    const saveS = secs(t0);
    const bytes = (await stat(snap.path)).size;
    const [c2, p2] = await freePorts(STORE_HOST, 2);
    const m = { name: 'restored', peerUrl: `http://${STORE_HOST}:${p2}`, clientUrl: `http://${STORE_HOST}:${c2}` };
    t0 = process.hrtime.bigint();
    const target = join(dir, 'restored');
    const r = await prepareRestore({ file: snap.path, dataDir: target, snapshotDir: join(target, 'snapshots'), server: 'restored', revisionBump: DEFAULT_REVISION_BUMP, member: m, clock: systemClock, logger: createLogger('bench', 'warn') });
    const t1 = process.hrtime.bigint();
    restored = await runScratchEtcd(join(target, 'etcd', 'data'), m.name, m.clientUrl, m.peerUrl);
    const rc = etcdClient(m.clientUrl);
    const revision = Number((await rc.maintenance.status()).header.revision);
    rc.close();
    const restoreS = secs(t0);
    const startS = secs(t1);
    if (revision !== r.revision.target) throw new Error(`restored etcd at revision ${revision}, want ${r.revision.target}`);
    return {
      store: 'etcd', objects: n, fillS: round(fillS),
      raw: { seconds: round(raw.seconds), bytes: raw.bytes, dbBytes: (await stat(join(rawDir, 'member', 'snap', 'db'))).size },
      save: { seconds: round(saveS), bytes, storeBytes: snap.manifest.storeBytes, ratioTime: round(saveS / raw.seconds, 1), ratioSize: round(bytes / raw.bytes, 3) },
      restore: { seconds: round(restoreS), ratioTime: round(restoreS / raw.seconds, 1), revision, snapshotRevision: r.manifest.revision, startSeconds: round(startS) },
    };
  } finally {
    client.close();
    await restored?.stop();
    await etcd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Latency { requests: number; p50Ms: number; p99Ms: number; maxMs: number; errors: number }

function latency(xs: number[], errors: number): Latency {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN, 2);
  return { requests: xs.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: round(s[s.length - 1] ?? NaN, 2), errors };
}

interface ApiRow { store: 'sqlite' | 'etcd'; objects: number; quiet: Latency; duringSnapshot: Latency; snapshots: number; snapshotSeconds: number[] }

/** 8 clients, each alternating a GET of a stored ConfigMap and a create of a new one, for `ms`; `counts(t)` says whether a request started at t counts. */
async function load(creds: Credentials, agent: Agent, n: number, ms: number, tag: string, counts: () => boolean): Promise<{ xs: number[]; errors: number }> {
  const xs: number[] = [];
  let errors = 0;
  const end = Date.now() + ms;
  let seq = 0;
  const worker = async (w: number): Promise<void> => {
    for (let k = 0; Date.now() < end; k++) {
      const write = k % 2 === 1;
      const spec = write
        ? { method: 'POST' as const, path: '/api/v1/namespaces/bench/configmaps', body: JSON.stringify({ metadata: { name: `${tag}-${w}-${seq++}` }, data: { x: 'y'.repeat(200) } }) }
        : { method: 'GET' as const, path: `/api/v1/namespaces/bench/configmaps/cm-${(k * 7919 + w) % n}` };
      const counted = counts();
      const t0 = process.hrtime.bigint();
      try {
        const r = await send(creds, agent, { ...spec, timeoutMs: 30_000 });
        if (r.status >= 300) errors++;
      } catch {
        errors++;
      }
      if (counted && counts()) xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  return { xs, errors };
}

async function apiRow(root: string, store: 'sqlite' | 'etcd', n: number, windowMs: number): Promise<ApiRow> {
  const tracker = benchTracker();
  const dataDir = join(root, `api-${store}`);
  await mkdir(dataDir, { recursive: true });
  const [cp1, pp1] = await freePorts(API_HOST, 2);
  const server = await startCliServer({
    cliMain: cliMain(), dataDir, host: API_HOST, logFile: join(root, `api-${store}.log`), tracker, subcommand: 'server', readyTimeoutMs: 120_000,
    extraArgs: ['--disable-agent', '--disable-dns', '--snapshot-schedule', 'off', '--snapshot-retention', '2', '--node-name', 'bench',
      ...(store === 'etcd' ? ['--cluster-init', '--etcd-client-port', String(cp1), '--etcd-peer-port', String(pp1)] : [])],
  });
  const creds = readCredentials(server.kubeconfigPath);
  const agent = adminAgent(creds, 16);
  try {
    await sendExpect(creds, agent, { method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ metadata: { name: 'bench' } }) }, 201);
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        await sendExpect(creds, agent, { method: 'POST', path: '/api/v1/namespaces/bench/configmaps', body: JSON.stringify({ metadata: { name: `cm-${i}`, labels: { app: `a${i % 50}` } }, data: { index: String(i), text: 'v'.repeat(200) } }) }, 201);
      }
    }));
    await load(creds, agent, n, 2_000, 'warm', () => false);
    const quiet = await load(creds, agent, n, windowMs, 'quiet', () => true);
    let saving = false;
    let stop = false;
    const saveTimes: number[] = [];
    const saver = (async () => {
      const snapAgent = adminAgent(creds, 1);
      try {
        for (let i = 0; !stop; i++) {
          saving = true;
          const t0 = process.hrtime.bigint();
          await sendExpect(creds, snapAgent, { method: 'POST', path: '/trireme/v1/snapshots', body: JSON.stringify({ name: `bench-${i}` }), timeoutMs: 600_000 }, 200);
          saveTimes.push(round(secs(t0)));
          saving = false;
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        saving = false;
        snapAgent.destroy();
      }
    })();
    const during = await load(creds, agent, n, windowMs, 'during', () => saving);
    stop = true;
    await saver;
    return { store, objects: n, quiet: latency(quiet.xs, quiet.errors), duringSnapshot: latency(during.xs, during.errors), snapshots: saveTimes.length, snapshotSeconds: saveTimes };
  } finally {
    agent.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function main(args: string[]): Promise<number> {
  const quick = args.includes('--quick');
  const sizes = (arg(args, '--sizes') ?? (quick ? '2000' : '10000,100000')).split(',').map(Number);
  const stores = (arg(args, '--stores') ?? 'sqlite,etcd').split(',') as ('sqlite' | 'etcd')[];
  const apiObjects = Number(arg(args, '--api-objects') ?? (quick ? 2000 : 10000));
  const windowMs = quick ? 5_000 : 15_000;
  const root = await mkdtemp(join(tmpdir(), 'trireme-bench-snapshot-'));
  const rows: StoreRow[] = [];
  const api: ApiRow[] = [];
  try {
    for (const store of stores) {
      for (const n of sizes) {
        const row = store === 'sqlite' ? await sqliteRow(root, n) : await etcdRow(root, n);
        rows.push(row);
        process.stdout.write(`${store.padEnd(6)} ${String(n).padStart(6)} objects: raw copy ${row.raw.seconds} s ${(row.raw.bytes / 1e6).toFixed(1)} MB${row.raw.dbBytes === undefined ? '' : ` (db ${(row.raw.dbBytes / 1e6).toFixed(1)} MB)`} | save ${row.save.seconds} s (${row.save.ratioTime}x) ${(row.save.bytes / 1e6).toFixed(1)} MB (${row.save.ratioSize}x) | restore ${row.restore.seconds} s (${row.restore.ratioTime}x)${row.restore.startSeconds === undefined ? '' : `, etcd start ${row.restore.startSeconds} s of it`}, revision ${row.restore.snapshotRevision} → ${row.restore.revision}\n`);
      }
    }
    if (!args.includes('--no-api')) {
      for (const store of stores) {
        const row = await apiRow(root, store, apiObjects, windowMs);
        api.push(row);
        process.stdout.write(`API on ${store}, ${row.objects} objects, 8 clients GET+create: quiet p50 ${row.quiet.p50Ms} ms p99 ${row.quiet.p99Ms} ms (${row.quiet.requests} req) | during ${row.snapshots} snapshots (${row.snapshotSeconds.join(', ')} s) p50 ${row.duringSnapshot.p50Ms} ms p99 ${row.duringSnapshot.p99Ms} ms (${row.duringSnapshot.requests} req, ${row.duringSnapshot.errors} errors)\n`);
      }
    }
    await mkdir(resultsDir(), { recursive: true });
    await writeFile(join(resultsDir(), 'snapshot.json'), `${JSON.stringify({ benchmark: 'snapshot', at: new Date().toISOString(), stores: rows, api }, null, 2)}\n`);
    return 0;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
