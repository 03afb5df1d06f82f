// The controller manager: one set of shared informers, then the ReplicaSet, Deployment,
// DaemonSet, node lifecycle, Endpoints, EndpointSlice (and mirroring), ClusterRole aggregation
// controllers and the garbage collector, each with its own work queue and workers.
// Guarantees: controllers start reconciling only after every informer has its first list (so
// no decision is made on an empty cache); `stop()` shuts the queues down, waits for in-flight
// reconciles, and stops the informers. Does not: elect a leader itself — the CLI runs it only
// while holding the `kube-controller-manager` Lease (src/cli/leading.ts, DESIGN.md §4).
import type { ApiClient } from '../client/api-client.js';
import { EventRecorder } from '../client/events.js';
import type { WorkQueueMetrics } from '../client/workqueue-metrics.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { runController, type Controller } from './common/controller.js';
import { SharedInformers } from './common/informers.js';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.js';
import { DaemonSetController } from './daemonset.js';
import { DeploymentController } from './deployment.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslice.js';
import { EndpointSliceMirroringController } from './endpointslice-mirroring.js';
import { GarbageCollector } from './garbage-collector.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './node-lifecycle.js';
import { ReplicaSetController, type ControllerDeps } from './replicaset.js';

export interface ControllerManagerOptions {
  logger: Logger;
  clock?: Clock;
  /** Workers per controller (default 4). */
  workers?: number;
  /** Node lifecycle timings (grace period before a silent node is unreachable). */
  nodeLifecycle?: NodeLifecycleOptions;
  /** Work queue metrics to report each controller's queue into (one per process and registry). */
  queueMetrics?: WorkQueueMetrics;
}

export interface RunningControllerManager {
  stop(): Promise<void>;
}

export async function startControllerManager(client: ApiClient, opts: ControllerManagerOptions): Promise<RunningControllerManager> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const informers = new SharedInformers(client, { logger: log.child({ part: 'informer' }), clock });
  const deps: ControllerDeps = {
    client, informers, clock, logger: log,
    recorder: new EventRecorder(client, { component: 'controller-manager' }, { clock, logger: log }),
  };
  const controllers: Controller[] = [
    new ReplicaSetController({ ...deps, logger: log.child({ controller: 'replicaset' }) }),
    new DeploymentController({ ...deps, logger: log.child({ controller: 'deployment' }) }),
    new DaemonSetController({ ...deps, logger: log.child({ controller: 'daemonset' }) }),
    new GarbageCollector({ ...deps, logger: log.child({ controller: 'garbage-collector' }) }),
    new NodeLifecycleController({ ...deps, logger: log.child({ controller: 'node-lifecycle' }) }, opts.nodeLifecycle),
    new EndpointsController({ ...deps, logger: log.child({ controller: 'endpoint' }) }),
    new EndpointSliceController({ ...deps, logger: log.child({ controller: 'endpointslice' }) }),
    new EndpointSliceMirroringController({ ...deps, logger: log.child({ controller: 'endpointslice-mirroring' }) }),
    new ClusterRoleAggregationController({ ...deps, logger: log.child({ controller: 'clusterrole-aggregation' }) }),
  ];
  const detach = opts.queueMetrics ? controllers.map((c) => opts.queueMetrics!.attach(c.name, c.queue)) : [];
  await informers.start();
  log.info({ controllers: controllers.map((c) => c.name) }, 'caches synced; controllers starting');
  for (const c of controllers) c.enqueueAll();
  const running = controllers.map((c) => runController(c, opts.workers ?? 4, log));
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        for (const c of controllers) c.queue.shutDown();
        await Promise.all(running);
        informers.stop();
        for (const d of detach) d();
      })();
      return stopped;
    },
  };
}
