// Finding and ending an etcd left running by an earlier server process on the same data dir
// (a server killed with SIGKILL leaves its etcd child alive, holding the ports and the data
// dir's lock, so the next server's etcd could not start).
// Guarantees: only a process whose /proc/<pid>/cmdline is an etcd command line naming exactly
// our --data-dir is signalled (a recycled pid in the pid file is left alone); the pid file is
// tried first, then /proc is scanned (the parent may have died before writing the pid file);
// `killLeftovers` returns once every such process is gone (SIGTERM, SIGKILL after a bound).
// Does not: work without /proc (Linux only), or reach another user's processes.
import { readdir, readFile } from 'node:fs/promises';
import { TriremeError } from '../errors.js';
import { pollUntil } from '../util/poll.js';
import type { EtcdPaths } from './paths.js';

async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s) => s !== '');
  } catch {
    return undefined;
  }
}

/** True when argv is an etcd run on this data dir (`--data-dir=X` or `--data-dir X`). */
export function isEtcdOnDataDir(argv: readonly string[], dataDir: string): boolean {
  const exe = argv[0] ?? '';
  if (!/(^|\/)etcd$/.test(exe)) return false;
  return argv.some((a, i) => a === `--data-dir=${dataDir}` || ((a === '--data-dir' || a === '-data-dir') && argv[i + 1] === dataDir));
}

async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name: Z = zombie, already dead.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of etcd processes running on `paths.data`. */
export async function findLeftovers(paths: EtcdPaths): Promise<number[]> {
  const found = new Set<number>();
  let fromFile: number | undefined;
  try {
    fromFile = Number((await readFile(paths.pid, 'utf8')).trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (fromFile !== undefined && Number.isInteger(fromFile) && fromFile > 0) {
    const argv = await cmdline(fromFile);
    if (argv && isEtcdOnDataDir(argv, paths.data) && (await alive(fromFile))) found.add(fromFile);
  }
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || found.has(pid)) continue;
    const argv = await cmdline(pid);
    if (argv && isEtcdOnDataDir(argv, paths.data) && (await alive(pid))) found.add(pid);
  }
  return [...found];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Ends every leftover etcd on this data dir; returns the pids it ended. */
export async function killLeftovers(paths: EtcdPaths, opts: { graceMs?: number } = {}): Promise<number[]> {
  const pids = await findLeftovers(paths);
  if (pids.length === 0) return [];
  for (const pid of pids) signal(pid, 'SIGTERM');
  const gone = async (): Promise<boolean> => (await Promise.all(pids.map(alive))).every((a) => !a);
  try {
    await pollUntil('leftover etcd to exit after SIGTERM', gone, { timeoutMs: opts.graceMs ?? 10_000, everyMs: 100 });
  } catch {
    for (const pid of pids) signal(pid, 'SIGKILL');
    try {
      await pollUntil('leftover etcd to exit after SIGKILL', gone, { timeoutMs: 5_000, everyMs: 50 });
    } catch (e) {
      throw new TriremeError('Internal', `a leftover etcd on ${paths.data} (pid ${pids.join(', ')}) does not exit`, { cause: e, context: { pids } });
    }
  }
  return pids;
}
