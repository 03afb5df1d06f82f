// Test helper: a real API server in this process on 127.0.0.1 (port 0) over a temp data dir,
// and an admin ApiClient for it. Everything it created is removed by `close()`. Options: a
// store spec (default SQLite in the data dir) and a data dir the caller owns (then kept), so
// that several servers can share one store and one CA.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/server.js';
import { openStore, type EtcdStoreSpec } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { ApiClient } from '../../src/client/api-client.js';
import { loadKubeconfig } from '../../src/client/config.js';
import { silentLogger } from '../../src/util/log.js';

export interface TestApiServer {
  server: RunningApiServer;
  client: ApiClient;
  dataDir: string;
  close(): Promise<void>;
}

export interface TestApiServerOptions {
  /** Serve from this etcd instead of SQLite in the data dir. */
  etcd?: Omit<EtcdStoreSpec, 'backend'>;
  /** Use (and keep) this data dir: servers sharing it share the CA and the admin credentials. */
  dataDir?: string;
  /** Serve through this view of the opened store (e.g. one that hides an optional method). */
  wrapStore?: (store: Store) => Store;
}

export async function startTestApiServer(host = '127.0.0.1', opts: TestApiServerOptions = {}): Promise<TestApiServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'trireme-api-'));
  const opened = opts.etcd ? openStore({ backend: 'etcd', ...opts.etcd }) : openStore({ backend: 'sqlite', dataDir });
  const store = opts.wrapStore ? opts.wrapStore(opened) : opened;
  const server = await startApiServer({ dataDir, store, bindAddress: host, port: 0, advertiseAddress: host, tlsSans: [], logger: silentLogger });
  const client = new ApiClient(loadKubeconfig(server.kubeconfigPath));
  return {
    server, client, dataDir,
    async close() {
      client.close();
      await server.stop();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
