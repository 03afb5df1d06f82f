// The files a container instance leaves in its directory (`.../containers/<name>/<attempt>/`),
// written by the agent (spec.json) and the shim (state.json, exit.json).
// Guarantees: every file is written atomically (temp file + rename), so a reader sees either
// nothing or a complete JSON document. Does not lock: each file has exactly one writer.
import { promises as fs, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What the shim runs. */
export interface SpecFile {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logDir: string;
}

/** Written by the shim once the container process runs. */
export interface StateFile {
  shimPid: number;
  pid: number;
  pgid: number;
  /** ms since the epoch. */
  startedAt: number;
  /** /proc start time of pid (clock ticks since boot), to detect a recycled pid. */
  procStart?: string;
}

/** Written by the shim (or the agent, if the shim was lost) once the container process ended. */
export interface ExitFile {
  exitCode: number;
  signal: string | null;
  finishedAt: number;
  reason: string;
  message?: string;
}

export const SPEC = 'spec.json';
export const STATE = 'state.json';
export const EXIT = 'exit.json';

export function writeJsonSync(file: string, v: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(v));
  renameSync(tmp, file);
}

export async function writeJson(file: string, v: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(v));
  await fs.rename(tmp, file);
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readJsonSync<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (start time); undefined if the process is gone or not Linux. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(path.join('/proc', String(pid), 'stat'), 'utf8');
    // The command name (field 2) may hold spaces and parens: split after its closing paren.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and (if known) still the same process. Zombies count as dead. */
export function isAlive(pid: number, procStart?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(path.join('/proc', String(pid), 'stat'), 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
  } catch {
    return true;
  }
  return procStart === undefined || procStartTime(pid) === procStart;
}

/** Whether any process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
