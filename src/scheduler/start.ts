// Starting one scheduler on clients of its own, for `trireme scheduler` and `trireme server`.
// Guarantees: the scheduler binds over its own pool of sockets (one per bind in flight, so
// binds never queue behind each other), events go over a small separate pool, both carry the
// caller's fence on every write, and the returned promise resolves once its caches are synced.
// Does not: elect a leader (the caller runs it under runWhileLeading), or read a kubeconfig.
import type { Fence } from '../api/fence.js';
import { ApiClient } from '../client/api-client.js';
import type { ClientConfig } from '../client/config.js';
import type { Logger } from '../util/log.js';
import { Scheduler } from './scheduler.js';
import type { SchedulerMetrics } from './metrics.js';

export interface RunningScheduler {
  scheduler: Scheduler;
  stop(): Promise<void>;
}

export interface StartSchedulerOptions {
  schedulerName?: string;
  maxBindsInFlight?: number;
  percentageOfNodesToScore?: number;
  fence?: Fence | undefined;
  metrics?: SchedulerMetrics;
}

export async function startScheduler(cfg: ClientConfig, log: Logger, options: StartSchedulerOptions = {}): Promise<RunningScheduler> {
  const { fence, ...opts } = options;
  const userAgent = cfg.userAgent ?? 'trireme-scheduler';
  const client = new ApiClient({ ...cfg, userAgent }, { logger: log, maxSockets: Math.max(32, opts.maxBindsInFlight ?? 64) });
  const eventClient = new ApiClient({ ...cfg, userAgent }, { logger: log, maxSockets: 4 });
  client.setFence(fence);
  eventClient.setFence(fence);
  const scheduler = new Scheduler({ client, eventClient, logger: log, ...opts });
  await scheduler.start();
  return {
    scheduler,
    stop: async () => {
      scheduler.stop();
      client.close();
      eventClient.close();
    },
  };
}
