// What a consistent list costs: list latency through an API server for resourceVersion unset
// (most recent) versus "0" (the cache as it is), on SQLite (one server: no store read) and on a
// real etcd with two servers (A writes, B lists): a cache already current (one quorum read), an
// idle cache behind a write elsewhere (plus the unchanged-prefix probe), and a cache whose
// resource was just written through A. In-process servers on 127.0.4.x, sequential requests,
// medians and p90 in ms on stdout and in bench/results/consistent-list.json.
// Does not: measure under concurrent load, or with several etcd members.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../src/api/object.js';
import { resource } from '../src/client/resources.js';
import { startTestApiServer, type TestApiServer } from '../test/helpers/api-server.js';
import { EtcdProcess } from '../test/helpers/etcd.js';
import { resultsDir } from './lib/paths.js';

const CM = resource('', 'configmaps');
const SECRETS = resource('', 'secrets');

interface Row { case: string; medianMs: number; p90Ms: number; n: number }

function stats(name: string, xs: number[]): Row {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN) * 100) / 100;
  return { case: name, medianMs: at(0.5), p90Ms: at(0.9), n: xs.length };
}

async function ms(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function repeat(n: number, fn: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}

export async function main(args: string[]): Promise<number> {
  const n = args.includes('--quick') ? 50 : 300;
  const rows: Row[] = [];
  const root = await mkdtemp(join(tmpdir(), 'trireme-bench-cl-'));
  const servers: TestApiServer[] = [];
  let etcd: EtcdProcess | undefined;
  try {
    // SQLite, one server.
    const lone = await startTestApiServer('127.0.4.1');
    servers.push(lone);
    for (let i = 0; i < 10; i++) await lone.client.create(CM, 'default', { metadata: { name: `c${i}` } });
    await repeat(20, () => ms(() => lone.client.list(CM, 'default'))); // warm-up
    rows.push(stats('sqlite: RV unset', await repeat(n, () => ms(() => lone.client.list(CM, 'default')))));
    rows.push(stats('sqlite: RV=0', await repeat(n, () => ms(() => lone.client.list(CM, 'default', { resourceVersion: '0' })))));
    await lone.close();
    servers.pop();

    // etcd, two servers.
    etcd = await EtcdProcess.onFreePorts(join(root, 'etcd'), ['--experimental-watch-progress-notify-interval=500ms']);
    await etcd.start();
    const spec = { endpoints: [etcd.endpoint], prefix: `/bench-${randomBytes(4).toString('hex')}` };
    const dataDir = join(root, 'data');
    const a = await startTestApiServer('127.0.4.1', { etcd: spec, dataDir });
    servers.push(a);
    const b = await startTestApiServer('127.0.4.2', { etcd: spec, dataDir });
    servers.push(b);
    for (let i = 0; i < 10; i++) await a.client.create(CM, 'default', { metadata: { name: `c${i}` } });
    for (let i = 0; i < 10; i++) await a.client.create(SECRETS, 'default', { metadata: { name: `s${i}` } });
    await repeat(20, () => ms(() => b.client.list(CM, 'default'))); // warm-up
    rows.push(stats('etcd: RV=0', await repeat(n, () => ms(() => b.client.list(CM, 'default', { resourceVersion: '0' })))));
    rows.push(stats('etcd: RV unset, cache current', await repeat(n, () => ms(() => b.client.list(CM, 'default')))));
    const before = { ...b.server.registry.consistentReads };
    rows.push(stats('etcd: RV unset, idle cache behind a write elsewhere', await repeat(n, async (i) => {
      await a.client.create(CM, 'default', { metadata: { name: `x${i}` } });
      return ms(() => b.client.list(SECRETS, 'default'));
    })));
    rows.push(stats('etcd: RV unset, right after a write of that resource through the other server', await repeat(n, async (i) => {
      await a.client.create<KubeObject>(CM, 'default', { metadata: { name: `y${i}` } });
      return ms(() => b.client.list(CM, 'default', { limit: 10 }));
    })));
    const after = b.server.registry.consistentReads;
    const paths = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]));

    const results = { benchmark: 'consistent-list', at: new Date().toISOString(), n, rows, pathsOfTheLastTwoCases: paths };
    for (const r of rows) process.stdout.write(`${r.case.padEnd(80)} median ${r.medianMs} ms  p90 ${r.p90Ms} ms\n`);
    process.stdout.write(`how B served the last two cases: ${JSON.stringify(paths)}\n`);
    await mkdir(resultsDir(), { recursive: true });
    await writeFile(join(resultsDir(), 'consistent-list.json'), `${JSON.stringify(results, null, 2)}\n`);
    return 0;
  } finally {
    for (const s of servers.reverse()) await s.close();
    await etcd?.kill();
    await rm(root, { recursive: true, force: true });
  }
}
