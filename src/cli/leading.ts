// Runs a control-plane component (controller manager, scheduler) only while this process holds
// its Lease in kube-system. Guarantees: the component is started on winning and stopped on
// losing or stopping, one transition at a time (a stop waits for a start in progress), and the
// Lease is released only after the component has stopped. When leadership is lost, a
// standalone process exits non-zero so its supervisor restarts it (as kube-controller-manager
// does); an in-process component ('campaign') is stopped and campaigns again. Fences: the
// component is started with the term it leads in (`start(fence)`), and must set it on the
// clients it writes with, so the API server rejects its writes once the Lease has moved on.
// The elector's own client is never fenced (its Lease writes decide the term). There is no way
// to run a component without election: the API server refuses unfenced writes by the
// controller-manager and scheduler identities, so an unelected instance could not work anyway.
// Each transition is a log line, a metric (LeaderMetrics) and, on winning, a Kubernetes Event
// (reason LeaderElection, regarding the Lease, "<identity> became leader", written with the new
// term's fence, as kube-controller-manager records it); losing is not an Event, since a deposed
// leader's fence no longer admits writes; the next leader's Event records the change.
import type { Command } from 'commander';
import { Registry as PromRegistry } from 'prom-client';
import { ApiClient } from '../client/api-client.js';
import type { ClientConfig } from '../client/config.js';
import type { Fence } from '../api/fence.js';
import { EventRecorder } from '../client/events.js';
import { apiLeaseAccess, DEFAULT_ELECTION_TIMINGS, defaultIdentity, LeaderElector, validateTimings, type ElectionTimings } from '../client/leader-election.js';
import { LeaderMetrics } from '../client/leader-metrics.js';
import type { Logger } from '../util/log.js';
import { SYSTEM_NAMESPACE } from '../api/namespaces.js';

export interface LeaderElectionFlags {
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
}

/** Adds the three leader-election timings (seconds) to a command. */
export function leaderElectionOptions(cmd: Command): Command {
  return cmd
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
  timings: ElectionTimings;
  onLost: 'exit' | 'campaign';
  /** The holder identity starts with this (`<node>_<random>`; default the host name). */
  nodeName?: string;
  /** Leader metrics to record into (one per process and registry); default a private registry. */
  metrics?: LeaderMetrics;
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

  const where = `${SYSTEM_NAMESPACE}/${opts.leaseName}`;
  const metrics = opts.metrics ?? new LeaderMetrics(new PromRegistry());
  // Its own client, so that renewals never queue behind the component's own requests.
  const client = new ApiClient({ ...opts.clientConfig, userAgent: `${opts.clientConfig.userAgent ?? 'trireme'}/leader-election` }, { logger: log, maxSockets: 2 });
  // Events go through a client of their own, fenced with the term they announce.
  const eventClient = new ApiClient({ ...opts.clientConfig, userAgent: `${opts.clientConfig.userAgent ?? 'trireme'}/leader-election` }, { logger: log, maxSockets: 1 });
  const recorder = new EventRecorder(eventClient, { component: opts.leaseName, ...(opts.nodeName ? { host: opts.nodeName } : {}) }, { logger: log });
  const access = apiLeaseAccess(client, SYSTEM_NAMESPACE, opts.leaseName);
  const announce = async (fence: Fence) => {
    try {
      const lease = await access.get();
      if (lease?.spec?.holderIdentity !== fence.identity) return;
      eventClient.setFence(fence);
      recorder.event({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata ?? {} }, 'Normal', 'LeaderElection', `${fence.identity} became leader`);
    } catch (err) {
      log.warn({ err, lease: where }, 'could not record the LeaderElection event');
    }
  };
  const elector = new LeaderElector({
    lease: access, namespace: SYSTEM_NAMESPACE, name: opts.leaseName,
    ...opts.timings, logger: log,
    identity: opts.nodeName ? defaultIdentity(opts.nodeName) : defaultIdentity(),
    callbacks: {
      onStartedLeading: () => {
        // Taken now, not when the start runs: a later term must not be mistaken for this one.
        const term = elector.currentTerm();
        metrics.record(where, elector.identity, 'started');
        const fence = term && { lease: { namespace: SYSTEM_NAMESPACE, name: opts.leaseName }, ...term };
        if (fence) void announce(fence);
        void startComponent(fence);
      },
      onStoppedLeading: async (reason) => {
        metrics.record(where, elector.identity, reason === 'lost' ? 'lost' : 'stopped');
        log.info({ lease: where, identity: elector.identity, reason }, 'stopped leading');
        await stopComponent();
        if (reason === 'lost' && opts.onLost === 'exit') fatal(undefined, 'leader election lost');
      },
      onNewLeader: (identity) => log.info({ leader: identity, lease: where }, 'new leader'),
    },
  });
  log.info({ identity: elector.identity, lease: where, ...opts.timings }, 'campaigning for leadership');
  elector.start();
  return {
    stop: async () => {
      await elector.stop({ release: true });
      await stopComponent();
      client.close();
      eventClient.close();
    },
  };
}
