// Runs a control-plane component (controller manager, scheduler) only while this process holds
// its Lease in kube-system. Guarantees: the component is started on winning and stopped on
// losing or stopping, one transition at a time (a stop waits for a start in progress), and the
// Lease is released only after the component has stopped. When leadership is lost, a
// standalone process exits non-zero so its supervisor restarts it (as kube-controller-manager
// does); an in-process component ('campaign') is stopped and campaigns again. Fences: the
// component is started with the term it leads in (`start(fence)`), and must set it on the
// clients it writes with, so the API server rejects its writes once the Lease has moved on.
// The elector's own client is never fenced (its Lease writes decide the term).
import type { Command } from 'commander';
import { ApiClient } from '../client/api-client.js';
import type { ClientConfig } from '../client/config.js';
import type { Fence } from '../api/fence.js';
import { apiLeaseAccess, DEFAULT_ELECTION_TIMINGS, LeaderElector, validateTimings, type ElectionTimings } from '../client/leader-election.js';
import type { Logger } from '../util/log.js';
import { SYSTEM_NAMESPACE } from '../api/namespaces.js';


export interface LeaderElectionFlags {
  leaderElect: boolean;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
}

/** Adds --[no-]leader-elect and the three timings (seconds) to a command. */
export function leaderElectionOptions(cmd: Command): Command {
  return cmd
    .option('--no-leader-elect', 'run without leader election (only one instance may run then)')
    .option('--leader-elect-lease-duration <s>', 'seconds a candidate waits after the last renewal it saw before taking over', String(DEFAULT_ELECTION_TIMINGS.leaseDurationSeconds))
    .option('--leader-elect-renew-deadline <s>', 'seconds the leader keeps trying to renew before it gives up leading', String(DEFAULT_ELECTION_TIMINGS.renewDeadlineSeconds))
    .option('--leader-elect-retry-period <s>', 'seconds between attempts to acquire or renew', String(DEFAULT_ELECTION_TIMINGS.retryPeriodSeconds));
}

/** The timings the flags name, validated (throws before anything starts). */
export function timingsFromFlags(flags: LeaderElectionFlags): ElectionTimings {
  const t: ElectionTimings = {
    leaseDurationSeconds: Number(flags.leaderElectLeaseDuration),
    renewDeadlineSeconds: Number(flags.leaderElectRenewDeadline),
    retryPeriodSeconds: Number(flags.leaderElectRetryPeriod),
  };
  validateTimings(t);
  return t;
}

export interface Stoppable {
  stop(): Promise<void>;
}

export interface LeadingOptions {
  /** Lease name in kube-system, e.g. kube-controller-manager. */
  leaseName: string;
  clientConfig: ClientConfig;
  logger: Logger;
  /** undefined: no election, start at once. */
  timings: ElectionTimings | undefined;
  onLost: 'exit' | 'campaign';
  /** Starts the component; it sets `fence` (undefined: no election) on every client it writes with. */
  start(fence: Fence | undefined): Promise<Stoppable>;
}

/** Starts campaigning (or the component directly without election); `stop()` stops it and releases the Lease. */
export function runWhileLeading(opts: LeadingOptions): Stoppable {
  const log = opts.logger;
  let component: Stoppable | undefined;
  // Start and stop run one after the other, in the order the elector asked for them.
  let chain: Promise<void> = Promise.resolve();
  const fatal = (err: unknown, msg: string) => {
    log.fatal({ err }, msg);
    process.exit(1);
  };
  const startComponent = (fence: Fence | undefined) => {
    chain = chain.then(async () => { component = await opts.start(fence); }).catch((err: unknown) => fatal(err, 'could not start'));
    return chain;
  };
  const stopComponent = () => {
    chain = chain.then(async () => {
      const c = component;
      component = undefined;
      await c?.stop();
    });
    return chain;
  };

  if (!opts.timings) {
    void startComponent(undefined);
    return { stop: stopComponent };
  }
  // Its own client, so that renewals never queue behind the component's own requests.
  const client = new ApiClient({ ...opts.clientConfig, userAgent: `${opts.clientConfig.userAgent ?? 'trireme'}/leader-election` }, { logger: log, maxSockets: 2 });
  const elector = new LeaderElector({
    lease: apiLeaseAccess(client, SYSTEM_NAMESPACE, opts.leaseName), namespace: SYSTEM_NAMESPACE, name: opts.leaseName,
    ...opts.timings, logger: log,
    callbacks: {
      onStartedLeading: () => {
        // Taken now, not when the start runs: a later term must not be mistaken for this one.
        const term = elector.currentTerm();
        void startComponent(term && { lease: { namespace: SYSTEM_NAMESPACE, name: opts.leaseName }, ...term });
      },
      onStoppedLeading: async (reason) => {
        await stopComponent();
        if (reason === 'lost' && opts.onLost === 'exit') fatal(undefined, 'leader election lost');
      },
      onNewLeader: (identity) => log.info({ leader: identity, lease: `${SYSTEM_NAMESPACE}/${opts.leaseName}` }, 'new leader'),
    },
  });
  log.info({ identity: elector.identity, lease: `${SYSTEM_NAMESPACE}/${opts.leaseName}` }, 'campaigning for leadership');
  elector.start();
  return {
    stop: async () => {
      await elector.stop({ release: true });
      await stopComponent();
      client.close();
    },
  };
}
