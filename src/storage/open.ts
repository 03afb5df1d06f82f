// Opens the store a server is configured with: SQLite in the data directory (one server) or an
// etcd cluster (HA).
// Guarantees: for SQLite, the data directory exists afterwards; the file name is stable across
// versions. For etcd, nothing is contacted until the first call.
// Not guaranteed: nothing here migrates data between backends.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdStore, type EtcdStoreOptions } from './etcd.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './store.js';

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE = 'trireme.db';

export interface SqliteStoreSpec extends SqliteStoreOptions {
  backend: 'sqlite';
  dataDir: string;
}

export interface EtcdStoreSpec extends EtcdStoreOptions {
  backend: 'etcd';
}

export type StoreSpec = SqliteStoreSpec | EtcdStoreSpec;

export function openStore(spec: StoreSpec): Store {
  if (spec.backend === 'etcd') return EtcdStore.open(spec);
  mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  return SqliteStore.open(join(spec.dataDir, SQLITE_FILE), spec);
}
