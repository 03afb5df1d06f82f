// The files a container instance leaves in its directory (`.../containers/<name>/<attempt>/`),
// written by the agent (spec.json) and the shim (state.json, exit.json).
// Guarantees: every file is written atomically (temp file + rename), so a reader sees either
// nothing or a complete JSON document; a reader tells a missing file (undefined) from one that
// exists but cannot be read or is not the expected document (a TriremeError with
// `context.corrupt`), because "never started" and "started, record damaged" call for opposite
// actions. Does not lock: each file has exactly one writer.
import { promises as fs, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { TriremeError } from '../../errors.js';
import { tempSibling } from '../../util/private-file.js';

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
  /** /proc start time of shimPid. */
  shimStart?: string;
  /** /proc/sys/kernel/random/boot_id when the shim wrote this file. */
  bootId?: string;
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

/** A shape check for one of the files. */
export type Shape<T> = (v: unknown) => v is T;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (v: unknown): boolean => v === undefined || typeof v === 'string';

export const isSpecFile: Shape<SpecFile> = (v): v is SpecFile =>
  isObj(v) && Array.isArray(v.argv) && v.argv.every((a) => typeof a === 'string') && isObj(v.env) && typeof v.cwd === 'string' && typeof v.logDir === 'string';

export const isStateFile: Shape<StateFile> = (v): v is StateFile =>
  isObj(v) && [v.shimPid, v.pid, v.pgid].every((n) => Number.isInteger(n) && (n as number) > 0) && typeof v.startedAt === 'number' &&
  optStr(v.procStart) && optStr(v.shimStart) && optStr(v.bootId);

export const isExitFile: Shape<ExitFile> = (v): v is ExitFile =>
  isObj(v) && Number.isInteger(v.exitCode) && (v.signal === null || typeof v.signal === 'string') && typeof v.finishedAt === 'number' &&
  typeof v.reason === 'string' && optStr(v.message);

/** The error for a state file that exists but is not what its writer writes. */
export function corruptFile(file: string, why: string, cause?: unknown): TriremeError {
  return new TriremeError('Internal', `${file} is unreadable: ${why}`, { context: { file, corrupt: true }, cause });
}

export function isCorrupt(e: unknown): e is TriremeError {
  return e instanceof TriremeError && e.context.corrupt === true;
}

export function writeJsonSync(file: string, v: unknown): void {
  const tmp = tempSibling(file);
  writeFileSync(tmp, JSON.stringify(v));
  renameSync(tmp, file);
}

export async function writeJson(file: string, v: unknown): Promise<void> {
  const tmp = tempSibling(file);
  await fs.writeFile(tmp, JSON.stringify(v));
  await fs.rename(tmp, file);
}

/** `text` as JSON (of `shape`, when given); a corrupt-file error naming `file` otherwise. */
export function decodeJson<T>(file: string, text: string, shape?: Shape<T>): T {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw corruptFile(file, `not JSON (${(e as Error).message})`, e);
  }
  if (shape && !shape(v)) throw corruptFile(file, 'not the document its writer writes');
  return v as T;
}

/** The file's document; undefined if it does not exist; throws a corrupt-file error otherwise. */
export async function readJson<T>(file: string, shape?: Shape<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw corruptFile(file, (e as Error).message, e);
  }
  return decodeJson(file, text, shape);
}

/** readJson, synchronously (the Node shim). */
export function readJsonSync<T>(file: string, shape?: Shape<T>): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw corruptFile(file, (e as Error).message, e);
  }
  return decodeJson(file, text, shape);
}
