// `trireme controller-manager`: the workload controllers alone, as a client of an API server
// reached through a kubeconfig. Stops gracefully on SIGTERM/SIGINT.
import type { Command } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { loadKubeconfig } from '../client/config.js';
import { startControllerManager } from '../controllers/manager.js';
import { createLogger } from '../util/log.js';
import { onShutdown } from './shutdown.js';

interface Flags {
  kubeconfig: string;
  workers: string;
}

export function registerControllerManager(program: Command): void {
  program.command('controller-manager')
    .description('run the ReplicaSet, Deployment, DaemonSet controllers and the garbage collector')
    .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server to work with')
    .option('--workers <n>', 'workers per controller', '4')
    .action(async (flags: Flags) => {
      const log = createLogger('controller-manager');
      const workers = Number(flags.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer, not ${flags.workers}`);
      const client = new ApiClient({ ...loadKubeconfig(flags.kubeconfig), userAgent: 'trireme-controller-manager' }, { logger: log });
      const cm = await startControllerManager(client, { logger: log, workers });
      onShutdown(log, async () => {
        await cm.stop();
        client.close();
      });
    });
}
