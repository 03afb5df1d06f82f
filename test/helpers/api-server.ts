// Test helper: a real API server in this process on 127.0.0.1 (port 0) over a temp data dir,
// and an admin ApiClient for it. Everything is removed by `close()`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/server.js';
import { openStore } from '../../src/storage/open.js';
import { ApiClient } from '../../src/client/api-client.js';
import { loadKubeconfig } from '../../src/client/config.js';
import { silentLogger } from '../../src/util/log.js';

export interface TestApiServer {
  server: RunningApiServer;
  client: ApiClient;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestApiServer(host = '127.0.0.1'): Promise<TestApiServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'trireme-api-'));
  const store = openStore({ backend: 'sqlite', dataDir });
  const server = await startApiServer({ dataDir, store, bindAddress: host, port: 0, advertiseAddress: host, tlsSans: [], logger: silentLogger });
  const client = new ApiClient(loadKubeconfig(server.kubeconfigPath));
  return {
    server, client, dataDir,
    async close() {
      client.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
