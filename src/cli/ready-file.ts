// The ready file: what a long-running subcommand serves, written to `<data dir>/ready.json` once
// it is ready (after the ready banner's facts are true), so that whoever started it — a test, a
// benchmark, a supervisor — learns the ports it bound (`--https-port 0`, `--kubelet-port 0`
// let the OS choose) without parsing logs and without a free-port race.
//
// Guarantees: the file appears whole or not at all (written to a temporary name, then renamed);
// it names the writer's pid, so a reader tells a stale file (an earlier run on the same data dir)
// from its own child's; `readReadyFile` returns undefined for a missing file and throws a typed
// error for a malformed one (never reads a corrupt file as missing).
// Does not: delete the file on exit (a crash could not anyway): readers compare the pid, and the
// launcher removes the file before starting a process on that data dir.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TriremeError } from '../errors.js';

export const READY_FILE = 'ready.json';

export interface ReadyInfo {
  /** The process that wrote the file. */
  pid: number;
  /** The API server, when this process runs one. */
  apiServer?: { url: string; port: number; kubeconfig: string };
  /** The node agent's kubelet API, when this process runs an agent. */
  kubelet?: { host: string; port: number };
  /** The managed etcd member, when this server runs one (its child's pid at the time). */
  etcd?: { name: string; clientUrl: string; peerUrl: string; pid?: number };
  /** The balancer's listener, when this process runs `trireme lb`. */
  lb?: { host: string; port: number };
  /** The DNS listeners, when this process runs `trireme dns`. */
  dns?: { udp: { host: string; port: number }; tcp: { host: string; port: number } };
}

export function readyFilePath(dataDir: string): string {
  return join(dataDir, READY_FILE);
}

export function writeReadyFile(dataDir: string, info: ReadyInfo): string {
  mkdirSync(dataDir, { recursive: true });
  const path = readyFilePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
  return path;
}

export function readReadyFile(dataDir: string): ReadyInfo | undefined {
  const path = readyFilePath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TriremeError('Internal', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (e) {
    throw new TriremeError('Internal', `${path} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof info !== 'object' || info === null || typeof (info as ReadyInfo).pid !== 'number') {
    throw new TriremeError('Internal', `${path} names no pid`);
  }
  return info as ReadyInfo;
}
