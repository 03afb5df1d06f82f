// `trireme controller-manager`: the workload controllers alone, as a client of an API server
// reached through a kubeconfig, running only while it holds the kube-system/kube-controller-manager
// Lease (always: there is no --no-leader-elect, see src/cli/leading.ts). Exits non-zero when it
// loses leadership, so that a supervisor restarts it. Stops gracefully on SIGTERM/SIGINT,
// releasing the Lease. With --metrics-bind-address it serves /metrics (leader status, work queues,
// node lifecycle, process) over plain HTTP (src/cli/metrics-listener.ts).
import type { Command } from 'commander';
import { Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import { LeaderMetrics } from '../client/leader-metrics.js';
import { WorkQueueMetrics } from '../client/workqueue-metrics.js';
import { NodeLifecycleMetrics } from '../controllers/nodelifecycle/metrics.js';
import { metricsBindOption, startMetricsListener, type HostPort } from './metrics-listener.js';
import { ApiClient } from '../client/api-client.js';
import { loadKubeconfig } from '../client/config.js';
import { startControllerManager } from '../controllers/manager.js';
import { createLogger, type LogFormat } from '../util/log.js';
import { logFormatOption } from './options.js';
import { nodeLifecycleFromFlags, nodeLifecycleOptions, type NodeLifecycleFlags } from './node-lifecycle-flags.js';
import { leaderElectionOptions, runWhileLeading, timingsFromFlags, type LeaderElectionFlags } from './leading.js';
import { onShutdown } from './shutdown.js';

interface Flags extends LeaderElectionFlags, Partial<NodeLifecycleFlags> {
  kubeconfig: string;
  workers: string;
  logFormat?: LogFormat;
  metricsBindAddress?: HostPort;
}

export function registerControllerManager(program: Command): void {
  metricsBindOption(nodeLifecycleOptions(logFormatOption(leaderElectionOptions(program.command('controller-manager')))))
    .description('run the ReplicaSet, Deployment, DaemonSet controllers and the garbage collector')
    .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server to work with')
    .option('--workers <n>', 'workers per controller', '4')
    .action(async (flags: Flags) => {
      const log = createLogger('controller-manager', undefined, flags.logFormat);
      const workers = Number(flags.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer, not ${flags.workers}`);
      const registry = new PromRegistry();
      collectDefaultMetrics({ register: registry, prefix: 'trireme_controller_manager_' });
      const queueMetrics = new WorkQueueMetrics(registry);
      const nodeLifecycle = { ...nodeLifecycleFromFlags(flags), metrics: new NodeLifecycleMetrics(registry) };
      const clientConfig = { ...loadKubeconfig(flags.kubeconfig), userAgent: 'trireme-controller-manager' };
      const listener = flags.metricsBindAddress ? await startMetricsListener(flags.metricsBindAddress, registry, log) : undefined;
      const running = runWhileLeading({
        leaseName: 'kube-controller-manager', clientConfig, logger: log, onLost: 'exit', metrics: new LeaderMetrics(registry),
        timings: timingsFromFlags(flags),
        start: async (fence) => {
          const client = new ApiClient(clientConfig, { logger: log });
          client.setFence(fence);
          const cm = await startControllerManager(client, { logger: log, workers, nodeLifecycle, queueMetrics });
          return { stop: async () => { await cm.stop(); client.close(); } };
        },
      });
      onShutdown(log, async () => { await running.stop(); await listener?.stop(); });
    });
}
