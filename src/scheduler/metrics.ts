// Prometheus metrics of the scheduler, named as kube-scheduler names them:
// `scheduler_schedule_attempts_total{result}` (scheduled = a node was chosen and bound,
// unschedulable = no node fits, error = the bind failed), `scheduler_scheduling_attempt_duration_seconds{result}`
// (the decision, filter and score, without the bind), `scheduler_pending_pods{queue}` (active,
// backoff, unschedulable, read when scraped from the running scheduler's queue).
// Guarantees: one instance per process and registry; a scheduler attaches its queue while it
// runs (it is restarted with each leadership term), and the counters outlive it. Does not:
// time the bind, or count preemption (there is none).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export interface PendingCounts {
  active: number;
  backoff: number;
  unschedulable: number;
}

export class SchedulerMetrics {
  private readonly attempts: Counter<'result'>;
  private readonly duration: Histogram<'result'>;
  private readonly source: { pending?: () => PendingCounts } = {};

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({ name: 'scheduler_schedule_attempts_total', help: 'Scheduling attempts by result (scheduled, unschedulable, error)', labelNames: ['result'], registers });
    for (const result of ['scheduled', 'unschedulable', 'error'] as const) this.attempts.inc({ result }, 0);
    this.duration = new Histogram({ name: 'scheduler_scheduling_attempt_duration_seconds', help: 'Time to decide a pod\'s node (filter and score), by result', labelNames: ['result'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers });
    const source = this.source;
    new Gauge({
      name: 'scheduler_pending_pods', help: 'Pods waiting to be scheduled, by queue (active, backoff, unschedulable)', labelNames: ['queue'], registers,
      collect() {
        this.reset();
        const c = source.pending?.();
        if (c) for (const queue of ['active', 'backoff', 'unschedulable'] as const) this.set({ queue }, c[queue]);
      },
    });
  }

  /** The running scheduler's queue; undefined when it stops. */
  attach(pending: (() => PendingCounts) | undefined): void {
    if (pending) this.source.pending = pending;
    else delete this.source.pending;
  }

  decided(result: 'scheduled' | 'unschedulable', seconds: number): void {
    this.duration.observe({ result }, seconds);
    if (result === 'unschedulable') this.attempts.inc({ result });
  }

  bound(ok: boolean): void {
    this.attempts.inc({ result: ok ? 'scheduled' : 'error' });
  }
}
