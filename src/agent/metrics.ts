// Prometheus metrics of a node agent (prom-client), served by the kubelet API at /metrics:
// `trireme_agent_container_starts_total{result}` (started = the process was started, whether it
// still runs or already exited; failed = it could not be started), `trireme_agent_container_restarts_total` (starts of an instance after the
// first), `trireme_agent_probe_results_total{probe,result}` (every probe run: liveness, readiness,
// startup; success, failure), `trireme_agent_node_heartbeat_age_seconds` (since the node Lease was
// last renewed, read when scraped; absent before the first renewal), `trireme_agent_pods` (pods
// this agent runs), plus the process's default metrics. Guarantees: one registry per agent, so
// `trireme server`'s local agent and its API server do not mix series. Does not: measure
// container CPU or memory.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../util/clock.js';

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly starts: Counter<'result'>;
  private readonly restarts: Counter;
  private readonly probes: Counter<'probe' | 'result'>;

  constructor(clock: Clock, sources: { lastRenewedAt(): number | undefined; pods(): number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'trireme_agent_' });
    this.starts = new Counter({ name: 'trireme_agent_container_starts_total', help: 'Container starts by result (started, failed to start)', labelNames: ['result'], registers });
    this.restarts = new Counter({ name: 'trireme_agent_container_restarts_total', help: 'Container starts of an instance after the first (restarts)', registers });
    this.probes = new Counter({ name: 'trireme_agent_probe_results_total', help: 'Probe runs by probe (liveness, readiness, startup) and result (success, failure)', labelNames: ['probe', 'result'], registers });
    for (const result of ['started', 'failed']) this.starts.inc({ result }, 0);
    new Gauge({
      name: 'trireme_agent_node_heartbeat_age_seconds', help: 'Seconds since this agent last renewed its node Lease', registers,
      collect() {
        this.reset();
        const at = sources.lastRenewedAt();
        if (at !== undefined) this.set(Math.max(0, (clock.now() - at) / 1000));
      },
    });
    new Gauge({
      name: 'trireme_agent_pods', help: 'Pods this agent runs', registers,
      collect() {
        this.set(sources.pods());
      },
    });
  }

  containerStarted(started: boolean, restart: boolean): void {
    this.starts.inc({ result: started ? 'started' : 'failed' });
    if (restart) this.restarts.inc();
  }

  probeRan(probe: string, success: boolean): void {
    this.probes.inc({ probe, result: success ? 'success' : 'failure' });
  }
}
