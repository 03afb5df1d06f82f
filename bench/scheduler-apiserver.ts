// Child-process entry for bench/scheduler: only the API server (SQLite in the given data
// dir, 127.0.0.1, a free port), so that no other scheduler or controller runs next to the
// one being measured. Prints one JSON line `{"kubeconfig": ..., "url": ...}` when ready;
// stops on SIGTERM.
import { startApiServer } from '../src/apiserver/server.js';
import { openStore } from '../src/storage/open.js';
import { createLogger } from '../src/util/log.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: scheduler-apiserver.js DATA_DIR');
const logger = createLogger('apiserver', process.env.TRIREME_LOG_LEVEL ?? 'warn');
const store = openStore({ backend: 'sqlite', dataDir, logger });
const server = await startApiServer({ dataDir, store, bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1', tlsSans: [], logger });
process.stdout.write(`${JSON.stringify({ kubeconfig: server.kubeconfigPath, url: server.url })}\n`);
process.on('SIGTERM', () => {
  void server.stop().finally(() => process.exit(0));
});
