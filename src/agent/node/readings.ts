// Reads the host for the Node object (the I/O edge of node status): the static facts once
// (cpus, memory, kernel, OS image, architecture and OS in Go's names, machine and boot id), and
// on every status update the readings the conditions are decided from (conditions.ts):
// /proc/meminfo MemAvailable, statfs of the agent's data dir and container-log dir, tasks in use
// against min(pid_max, threads-max), and whether the runtime can start containers (its shim is
// there and executable, the pods dir is writable).
// Guarantees: a reading that fails becomes `{ error }` (the condition says Unknown and why) and is
// logged once per distinct error, not every period; two directories on one filesystem are one
// reading; reads may overlap (each write check uses a file of its own). Does not: decide
// anything, or cache readings between calls.
import { randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../util/log.js';
import type { FsReading, HostReadings, MemoryReading, PidReading } from './conditions.js';
import { goArch, goOs } from './platform.js';

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  kernelVersion: string;
  osImage: string;
  hostname: string;
  /** GOARCH / GOOS names (platform.ts). */
  architecture: string;
  operatingSystem: string;
  machineID: string;
  bootID: string;
  systemUUID: string;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A file's trimmed text, or '' when it does not exist or may not be read (optional host facts). */
async function optionalFile(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return '';
    throw e;
  }
}

/** PRETTY_NAME of os-release(5), as the kubelet reports osImage. */
export function osImageFrom(osRelease: string): string | undefined {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  if (!m?.[1]) return undefined;
  return m[1].trim().replace(/^(["'])(.*)\1$/, '$2');
}

export async function readHostFacts(): Promise<HostFacts> {
  const [osRelease, machineID, bootID, systemUUID] = await Promise.all([
    optionalFile('/etc/os-release').then(async (t) => t || optionalFile('/usr/lib/os-release')),
    optionalFile('/etc/machine-id'),
    optionalFile('/proc/sys/kernel/random/boot_id'),
    optionalFile('/sys/class/dmi/id/product_uuid'),
  ]);
  return {
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    memoryBytes: os.totalmem(),
    kernelVersion: os.release(),
    osImage: osImageFrom(osRelease) ?? `${os.type()} ${os.release()}`,
    hostname: os.hostname(),
    architecture: goArch(process.arch, os.endianness()),
    operatingSystem: goOs(process.platform),
    machineID, bootID, systemUUID,
  };
}

/** MemTotal and MemAvailable of /proc/meminfo (kB there). */
export function parseMeminfo(text: string): MemoryReading {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`/proc/meminfo has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') };
}

/** Tasks alive: the denominator of /proc/loadavg's fourth field (`running/total`). */
export function parseLoadavgTasks(text: string): number {
  const m = /^\S+ \S+ \S+ \d+\/(\d+) /.exec(text);
  if (!m) throw new Error(`unexpected /proc/loadavg: ${text.slice(0, 60)}`);
  return Number(m[1]);
}

async function readMemory(): Promise<MemoryReading> {
  return parseMeminfo(await fs.readFile('/proc/meminfo', 'utf8'));
}

async function readPids(): Promise<PidReading> {
  const [pidMax, threadsMax, loadavg] = await Promise.all([
    fs.readFile('/proc/sys/kernel/pid_max', 'utf8'),
    fs.readFile('/proc/sys/kernel/threads-max', 'utf8'),
    fs.readFile('/proc/loadavg', 'utf8'),
  ]);
  return { limit: Math.min(Number(pidMax.trim()), Number(threadsMax.trim())), inUse: parseLoadavgTasks(loadavg) };
}

/** One reading per filesystem (grouped by device) holding `dirs`. */
async function readFilesystems(dirs: readonly string[]): Promise<FsReading[]> {
  const byDev = new Map<number, FsReading>();
  for (const dir of dirs) {
    const dev = (await fs.stat(dir)).dev;
    const seen = byDev.get(dev);
    if (seen) {
      seen.paths.push(dir);
      continue;
    }
    const s = await fs.statfs(dir);
    byDev.set(dev, { paths: [dir], capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, inodes: s.files, inodesFree: s.ffree });
  }
  return [...byDev.values()];
}

export interface ShimFiles {
  /** The executable the runtime starts for each container. */
  file: string;
  /** Its first arguments (the Node shim's script), which must be readable. */
  args: readonly string[];
}

/** Why the runtime cannot start containers, or [] when it can. */
async function runtimeProblems(shim: ShimFiles, podsDir: string): Promise<string[]> {
  const problems: string[] = [];
  try {
    await fs.access(shim.file, constants.X_OK);
  } catch (e) {
    problems.push(`container shim ${shim.file} is not executable: ${errorText(e)}`);
  }
  for (const script of shim.args) {
    try {
      await fs.access(script, constants.R_OK);
    } catch (e) {
      problems.push(`container shim script ${script} is not readable: ${errorText(e)}`);
    }
  }
  // Write for real: access(W_OK) says yes on a read-only mount. A file of its own per check:
  // two overlapping reads (a status update right after a fence, beside the periodic one) would
  // otherwise unlink each other's file, and a node would report Ready False for a whole period.
  const probe = path.join(podsDir, `.write-check-${process.pid}-${randomUUID()}`);
  try {
    await fs.writeFile(probe, '');
    await fs.unlink(probe);
  } catch (e) {
    problems.push(`data dir ${podsDir} is not writable: ${errorText(e)}`);
  }
  return problems;
}

export interface NodeReaderOptions {
  /** The agent's data dir and the dir container logs are written under. */
  dataDir: string;
  logDir: string;
  podsDir: string;
  shim: ShimFiles;
  logger: Logger;
}

/** Reads HostReadings each call; logs each distinct reading error once. */
export class NodeReader {
  private logged = new Set<string>();

  constructor(private readonly o: NodeReaderOptions) {}

  async read(): Promise<HostReadings> {
    const settle = async <T>(what: string, p: Promise<T>): Promise<T | { error: string }> => {
      try {
        return await p;
      } catch (e) {
        const error = `${what}: ${errorText(e)}`;
        if (!this.logged.has(error)) {
          this.logged.add(error);
          this.o.logger.warn({ err: e, what }, 'cannot read the host for node status');
        }
        return { error };
      }
    };
    const [memory, filesystems, pids, problems] = await Promise.all([
      settle('memory', readMemory()),
      settle('filesystems', readFilesystems([this.o.dataDir, this.o.logDir])),
      settle('pids', readPids()),
      runtimeProblems(this.o.shim, this.o.podsDir),
    ]);
    return { memory, filesystems, pids, runtimeProblems: problems };
  }
}
