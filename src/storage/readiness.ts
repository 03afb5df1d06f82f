// Store readiness as a pure decision (docs/storage.md, "Readiness"): from what a backend has
// just observed -- a read through it, the outcome of its last write, a fault no later success
// clears, its free space, its alarms -- whether it should get traffic, with a message that
// names every cause.
// Guarantees: `ok` is true only if the read succeeded, the last write (if any) succeeded, there
// is no sticky fault, no alarm (and the alarm list, when asked for, could be read), and free
// space (when measured) is at or above the reserve.
// Does not: observe anything itself; the backends do the I/O (sqlite.ts, etcd.ts).

export interface StoreReadiness {
  ok: boolean;
  /** Every cause when not ok (joined by "; "), or a short summary when ok. */
  message: string;
}

/** The outcome of the newest write this process attempted (a client write or a write probe). */
export type WriteOutcome = { ok: true; at: number } | { ok: false; at: number; error: string };

export interface ReadinessObservation {
  /** `sqlite` or `etcd`, the prefix of every message. */
  backend: string;
  /** Why the read through the store failed; undefined if it succeeded. */
  readError?: string | undefined;
  /** Undefined while this process has written nothing yet. */
  lastWrite?: WriteOutcome | undefined;
  /** A fault that stays until the process restarts (e.g. a corrupt database file). */
  fault?: string | undefined;
  /** Free space where the store keeps its files, if the backend measures it. */
  space?: { dir: string; freeBytes: number; minFreeBytes: number } | undefined;
  /** Why free space could not be measured. */
  spaceError?: string | undefined;
  /** Alarms the backend raised (etcd: NOSPACE, CORRUPT). */
  alarms?: string[] | undefined;
  /** Why the alarm list could not be read. */
  alarmError?: string | undefined;
}

export function decideReadiness(o: ReadinessObservation, now: number): StoreReadiness {
  const problems: string[] = [];
  if (o.fault !== undefined) problems.push(o.fault);
  if (o.readError !== undefined) problems.push(`read failed: ${o.readError}`);
  if (o.lastWrite && !o.lastWrite.ok) problems.push(`last write failed ${ago(now - o.lastWrite.at)}: ${o.lastWrite.error}`);
  if (o.alarms && o.alarms.length > 0) problems.push(`alarms raised: ${o.alarms.join(', ')}`);
  if (o.alarmError !== undefined) problems.push(`cannot list alarms: ${o.alarmError}`);
  if (o.spaceError !== undefined) problems.push(`cannot measure free space: ${o.spaceError}`);
  if (o.space && o.space.freeBytes < o.space.minFreeBytes) {
    problems.push(`${bytes(o.space.freeBytes)} free in ${o.space.dir}, below the ${bytes(o.space.minFreeBytes)} the store keeps in reserve`);
  }
  if (problems.length > 0) return { ok: false, message: `${o.backend}: ${problems.join('; ')}` };
  const parts = ['read ok', o.lastWrite ? `last write ok ${ago(now - o.lastWrite.at)}` : 'no write yet'];
  if (o.space) parts.push(`${bytes(o.space.freeBytes)} free`);
  return { ok: true, message: `${o.backend}: ${parts.join(', ')}` };
}

function ago(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))}s ago`;
}

/** 1536 -> "1.5 KiB" (binary units, one decimal). */
export function bytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
