// Prometheus metrics of work queues, named as client-go names them: `workqueue_depth{name}` (keys
// waiting now, read when scraped), `workqueue_adds_total{name}` (keys taken in; a key already
// queued is not counted again) and `workqueue_retries_total{name}` (rate-limited re-adds after a
// failed reconcile). Guarantees: one instance per process and registry; queues are attached by
// name and detached when they stop, and the counters outlive them (a controller manager starts
// new queues with each leadership term; the counts go on). Does not: time how long keys wait.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkQueue } from './workqueue.js';

export class WorkQueueMetrics {
  private readonly queues = new Map<string, WorkQueue>();
  private readonly adds: Counter<'name'>;
  private readonly retries: Counter<'name'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const queues = this.queues;
    new Gauge({
      name: 'workqueue_depth', help: 'Keys waiting in each work queue', labelNames: ['name'], registers,
      collect() {
        this.reset();
        for (const [name, q] of queues) this.set({ name }, q.length);
      },
    });
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Keys taken into each work queue', labelNames: ['name'], registers });
    this.retries = new Counter({ name: 'workqueue_retries_total', help: 'Rate-limited re-adds of keys whose reconcile failed', labelNames: ['name'], registers });
  }

  /** Reports `queue` as `name` until the returned function is called. */
  attach(name: string, queue: WorkQueue): () => void {
    this.queues.set(name, queue);
    this.adds.inc({ name }, 0);
    this.retries.inc({ name }, 0);
    queue.observe({ added: () => this.adds.inc({ name }), retried: () => this.retries.inc({ name }) });
    return () => {
      if (this.queues.get(name) === queue) this.queues.delete(name);
    };
  }
}
