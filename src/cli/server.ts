// `trireme server`: the control plane on this machine (today: the API server on SQLite).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { startApiServer } from '../apiserver/server.js';
import { openStore } from '../storage/open.js';
import { createLogger } from '../util/log.js';
import { collect, ipAddress, port } from './options.js';
import { onShutdown } from './shutdown.js';

interface ServerFlags {
  dataDir: string;
  bindAddress: string;
  httpsPort: number;
  tlsSan: string[];
  disableAgent?: boolean;
  nodeName?: string;
  nodeIp?: string;
}

export function registerServer(program: Command): void {
  program.command('server')
    .description('run a control-plane server (API server on the embedded store)')
    .option('--data-dir <dir>', 'data directory (store, certificates, kubeconfig)', '/var/lib/trireme')
    .option('--bind-address <ip>', 'address the API server listens on', ipAddress, '0.0.0.0')
    .option('--https-port <port>', 'API server port', port, 6443)
    .option('--tls-san <name-or-ip>', 'extra name or IP for the serving certificate (repeatable)', collect, [])
    .option('--disable-agent', 'do not run a node agent in this process')
    .option('--node-name <name>', 'node name of the local agent')
    .option('--node-ip <ip>', 'address of this node (also advertised for the API server)', ipAddress)
    .action(async (flags: ServerFlags) => {
      const log = createLogger('server');
      const dataDir = resolve(flags.dataDir);
      const advertise = flags.nodeIp ?? (flags.bindAddress === '0.0.0.0' ? '127.0.0.1' : flags.bindAddress);
      const store = openStore({ backend: 'sqlite', dataDir, logger: createLogger('store') });
      const server = await startApiServer({
        dataDir, store, bindAddress: flags.bindAddress, port: flags.httpsPort, advertiseAddress: advertise,
        tlsSans: flags.tlsSan, logger: createLogger('apiserver'),
      });
      process.stdout.write(`Trireme API server at ${server.url}\nkubeconfig: ${server.kubeconfigPath}\n  export KUBECONFIG=${server.kubeconfigPath}\n`);
      onShutdown(log, () => server.stop());
    });
}
