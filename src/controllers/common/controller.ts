// What the manager needs from a controller: a name, its queue of keys and a level-triggered
// reconcile. `runController` drives the workers. Guarantees (from the work queue): a key is
// never reconciled by two workers at once; a failed reconcile comes back with back-off.
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import type { Logger } from '../../util/log.js';

export interface Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  reconcile(key: string): Promise<void>;
  /** Called once every informer has synced: queue every existing object. */
  enqueueAll(): void;
}

export function runController(c: Controller, workers: number, log: Logger): Promise<void> {
  return runWorkers(c.queue, workers, (key) => c.reconcile(key), log.child({ controller: c.name }));
}
