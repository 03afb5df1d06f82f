// A SQLite store file read and written directly, for snapshots: the objects and revision of a
// backup copy, an online backup of a file no server holds, and the revision bump of a restore.
// Guarantees: reads open the file read-only; `raiseSqliteRevision` leaves every current object
// (key, value, create and mod revision) as it was, drops the change log and records the compact
// revision it is given (refusing one below the file's), so the store opened on it numbers its next write above
// every revision it ever had and answers any watch from before with Gone (a relist).
// Does not: take the server's lock (the caller works on a copy, or on a file no process has open).
import Database from 'better-sqlite3';
import { TriremeError } from '../../errors.js';

export interface StoredObject {
  key: string;
  value: string;
  modRevision: number;
}

/** The revision of a store file: its newest change or its compact revision, whichever is higher (as SqliteStore.open). */
function revisionOf(db: Database.Database): number {
  const log = (db.prepare('SELECT MAX(rev) AS r FROM log').get() as { r: number | null }).r ?? 0;
  const compact = (db.prepare("SELECT value FROM meta WHERE name = 'compact_revision'").get() as { value: number } | undefined)?.value ?? 0;
  return Math.max(log, compact);
}

/** Every object and the revision of a SQLite store file. */
export function readSqliteFile(path: string): { revision: number; objects: StoredObject[] } {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new TriremeError('BadRequest', `${path} is not a readable SQLite store: ${(e as Error).message}`, { cause: e });
  }
  try {
    const revision = revisionOf(db);
    const objects = (db.prepare('SELECT key, value, mod_revision AS modRevision FROM kv ORDER BY key').all() as StoredObject[]);
    return { revision, objects };
  } catch (e) {
    throw new TriremeError('BadRequest', `${path} is not a Trireme SQLite store: ${(e as Error).message}`, { cause: e });
  } finally {
    db.close();
  }
}

/** An online backup of a store file that no server holds (the snapshot before a reset). */
export async function backupSqliteFile(path: string, dest: string): Promise<void> {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 2_000 });
  try {
    await db.backup(dest);
  } catch (e) {
    throw new TriremeError('Conflict', `cannot back up ${path} (${(e as Error).message}): is a server still running on this data dir?`, { cause: e });
  } finally {
    db.close();
  }
}

/** Raises the revision of a restored store file to `to` and marks everything before it compacted. */
export function raiseSqliteRevision(path: string, to: number): { from: number; to: number } {
  const db = new Database(path, { fileMustExist: true });
  try {
    const from = revisionOf(db);
    if (!Number.isSafeInteger(to) || to < from) throw new TriremeError('BadRequest', `cannot set the revision of ${path} to ${to}: it is at ${from}`);
    db.transaction(() => {
      db.prepare('DELETE FROM log').run();
      db.prepare("INSERT INTO meta(name, value) VALUES ('compact_revision', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value").run(to);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { from, to };
  } finally {
    db.close();
  }
}
