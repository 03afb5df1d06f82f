// `trireme scheduler`: the scheduler alone, as a client of an API server reached through a
// kubeconfig (src/scheduler/start.ts starts it; `trireme server` runs the same in-process).
// The command schedules only while it holds the kube-system/kube-scheduler Lease
// (always: there is no --no-leader-elect) and exits non-zero when it loses it, so that a supervisor restarts
// it. Stops on SIGTERM/SIGINT, releasing the Lease. With --metrics-bind-address it serves
// /metrics (leader status, scheduling attempts and latency, pending pods, process) over plain
// HTTP (src/cli/metrics-listener.ts).
import type { Command } from 'commander';
import { Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import { LeaderMetrics } from '../client/leader-metrics.js';
import { SchedulerMetrics } from '../scheduler/metrics.js';
import { metricsBindOption, startMetricsListener, type HostPort } from './metrics-listener.js';
import { loadKubeconfig } from '../client/config.js';
import { startScheduler } from '../scheduler/start.js';
import { createLogger, type LogFormat } from '../util/log.js';
import { logFormatOption } from './options.js';
import { leaderElectionOptions, runWhileLeading, timingsFromFlags, type LeaderElectionFlags } from './leading.js';
import { onShutdown } from './shutdown.js';

interface Flags extends LeaderElectionFlags {
  kubeconfig: string;
  schedulerName: string;
  maxBindsInFlight: string;
  percentageOfNodesToScore: string;
  logFormat?: LogFormat;
  metricsBindAddress?: HostPort;
}

function positiveInt(name: string, v: string, max = Infinity): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be an integer in 0..${max}, not ${v}`);
  return n;
}

export function registerScheduler(program: Command): void {
  metricsBindOption(logFormatOption(leaderElectionOptions(program.command('scheduler'))))
    .description('run the pod scheduler (filters, scores, binds pods to nodes)')
    .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server to work with')
    .option('--scheduler-name <name>', 'schedule pods whose spec.schedulerName is this', 'default-scheduler')
    .option('--max-binds-in-flight <n>', 'binds running at once', '64')
    .option('--percentage-of-nodes-to-score <pct>', '0 = adaptive (as kube-scheduler), 100 = every node', '0')
    .action(async (flags: Flags) => {
      const log = createLogger('scheduler', undefined, flags.logFormat);
      const clientConfig = loadKubeconfig(flags.kubeconfig);
      const opts = {
        schedulerName: flags.schedulerName,
        maxBindsInFlight: Math.max(1, positiveInt('--max-binds-in-flight', flags.maxBindsInFlight)),
        percentageOfNodesToScore: positiveInt('--percentage-of-nodes-to-score', flags.percentageOfNodesToScore, 100),
      };
      const registry = new PromRegistry();
      collectDefaultMetrics({ register: registry, prefix: 'trireme_scheduler_' });
      const metrics = new SchedulerMetrics(registry);
      const listener = flags.metricsBindAddress ? await startMetricsListener(flags.metricsBindAddress, registry, log) : undefined;
      const running = runWhileLeading({
        leaseName: 'kube-scheduler', clientConfig: { ...clientConfig, userAgent: clientConfig.userAgent ?? 'trireme-scheduler' }, logger: log, onLost: 'exit',
        timings: timingsFromFlags(flags), metrics: new LeaderMetrics(registry),
        start: (fence) => startScheduler(clientConfig, log, { ...opts, fence, metrics }),
      });
      onShutdown(log, async () => { await running.stop(); await listener?.stop(); });
    });
}
