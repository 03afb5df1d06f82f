// A pod's host-port assignment on disk (`<podDir>/ports.json`) and its restoration after an
// agent restart, so that no port of a running container is handed out a second time.
// Guarantees: a missing ports.json means "no assignment yet" (nothing to restore); one that
// exists but cannot be read or is not a map of keys to ports 1-65535 is a typed error
// (TriremeError Internal, `context.corrupt`), logged once at error by `restorePorts`, which then
// falls back to the assignment the pod itself records (annotation `trireme.io/ports` or status
// condition `trireme.io/PortsAllocated` in pod.json) so the ports stay reserved; only if neither
// exists are the pod's ports assigned anew (said in the log line). The worker rewrites ports.json
// on its first sync. Does not check that the recorded ports are still bound by the containers.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../util/log.js';
import { corruptFile, decodeJson, readJson } from '../runtime/state-files.js';
import { PORTS_ANNOTATION, type PortAllocator, type PortAssignment } from './ports.js';

export const PORTS_FILE = 'ports.json';
export const PORTS_CONDITION = 'trireme.io/PortsAllocated';

/** Parses a port assignment (ports.json, the annotation, the condition message); throws if malformed. */
export function parsePorts(text: string, what: string): PortAssignment {
  return portsOf(decodeJson<unknown>(what, text), what);
}

/** A decoded document as a port assignment; throws a corrupt-file error naming `what` if it is not one. */
function portsOf(v: unknown, what: string): PortAssignment {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corruptFile(what, 'not a map of ports');
  const out: PortAssignment = {};
  for (const [k, p] of Object.entries(v)) {
    if (!Number.isInteger(p) || (p as number) < 1 || (p as number) > 65535) throw corruptFile(what, `${k}: ${JSON.stringify(p)} is not a port`);
    out[k] = p as number;
  }
  return out;
}

/** The pod's ports.json; undefined if there is none; throws a corrupt-file error otherwise. */
export async function readPortsFile(podDir: string): Promise<PortAssignment | undefined> {
  const file = path.join(podDir, PORTS_FILE);
  const v = await readJson<unknown>(file);
  return v === undefined ? undefined : portsOf(v, file);
}

/** The assignment a pod records about itself (annotation, else condition); undefined if none or malformed. */
export function recordedPorts(pod: Pod | undefined): PortAssignment | undefined {
  const sources = [
    pod?.metadata?.annotations?.[PORTS_ANNOTATION],
    pod?.status?.conditions?.find((c) => c.type === PORTS_CONDITION)?.message,
  ];
  for (const text of sources) {
    if (text === undefined) continue;
    try {
      return parsePorts(text, 'the pod\'s recorded ports');
    } catch {
      continue; // try the other record
    }
  }
  return undefined;
}

async function readPod(podDir: string, log: Logger): Promise<Pod | undefined> {
  const file = path.join(podDir, 'pod.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Pod;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err: e, file }, 'pod.json is unreadable; its ports are kept reserved as if it used the port range');
    return undefined;
  }
}

/** Restores every pod's assignment under podsDir into the allocator (after an agent restart). */
export async function restorePorts(podsDir: string, ports: PortAllocator, log: Logger): Promise<void> {
  for (const uid of await fs.readdir(podsDir).catch(() => [] as string[])) {
    const podDir = path.join(podsDir, uid);
    let assignment: PortAssignment | undefined;
    let pod: Pod | undefined;
    try {
      assignment = await readPortsFile(podDir);
      if (assignment === undefined) continue;
      pod = await readPod(podDir, log);
    } catch (err) {
      pod = await readPod(podDir, log);
      assignment = recordedPorts(pod);
      log.error({ err, pod: uid, recovered: assignment },
        assignment ? 'ports.json is unreadable; restored the assignment the pod records' : 'ports.json is unreadable and the pod records no assignment; its ports will be assigned anew');
      if (!assignment) continue;
    }
    ports.restore(uid, assignment, pod?.spec?.hostNetwork === true);
  }
}
