// Opens the store a server is configured with. Today that is SQLite in the data directory;
// the etcd backend joins here when it exists.
// Guarantees: the data directory exists afterwards; the file name is stable across versions.
// Not guaranteed: nothing here migrates data between backends.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './store.js';

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE = 'trireme.db';

export interface SqliteStoreSpec extends SqliteStoreOptions {
  backend: 'sqlite';
  dataDir: string;
}

export type StoreSpec = SqliteStoreSpec;

export function openStore(spec: StoreSpec): Store {
  mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  return SqliteStore.open(join(spec.dataDir, SQLITE_FILE), spec);
}
