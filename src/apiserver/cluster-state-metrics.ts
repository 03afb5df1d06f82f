// Cluster-state gauges, like kube-state-metrics, computed from this API server's watch caches
// when scraped (no store read): `trireme_node_ready{node}` (1 when the Ready condition is True),
// `trireme_deployment_replicas_desired` / `_available{namespace,deployment}`,
// `trireme_pod_container_status_restarts_total{namespace,pod,container}` (the pods' restartCount).
// Guarantees: `clusterStateSamples` is a pure function of the objects; every server exports the
// same series (deduplicate with `max by` in rules). Does not: keep history (a deleted pod's
// restarts leave with it), or read anything newer than the caches.
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import { findResource } from '../api/resources.js';
import type { Registry } from './registry.js';

export interface ClusterStateSamples {
  nodeReady: { node: string; value: number }[];
  deployments: { namespace: string; deployment: string; desired: number; available: number }[];
  restarts: { namespace: string; pod: string; container: string; value: number }[];
}

export function clusterStateSamples(nodes: readonly Node[], deployments: readonly Deployment[], pods: readonly Pod[]): ClusterStateSamples {
  return {
    nodeReady: nodes.map((n) => ({
      node: n.metadata?.name ?? '',
      value: (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 1 : 0,
    })),
    deployments: deployments.map((d) => ({
      namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '',
      // An unset spec.replicas means 1, as the API defaults it.
      desired: d.spec?.replicas ?? 1, available: d.status?.availableReplicas ?? 0,
    })),
    restarts: pods.flatMap((p) => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].map((c) => ({
      namespace: p.metadata?.namespace ?? '', pod: p.metadata?.name ?? '', container: c.name, value: c.restartCount,
    }))),
  };
}

export function registerClusterStateMetrics(registry: PromRegistry, source: Registry): void {
  const registers = [registry];
  const nodes = findResource('', 'v1', 'nodes')!;
  const deployments = findResource('apps', 'v1', 'deployments')!;
  const pods = findResource('', 'v1', 'pods')!;
  // One computation per scrape, shared by the families: a scrape starts every collect() at once
  // (prom-client), so they all find the one in progress; it is forgotten when it settles.
  let pending: Promise<ClusterStateSamples> | undefined;
  const compute = async () => {
    const [n, d, p] = await Promise.all([nodes, deployments, pods].map((info) => source.list(info, undefined, { resourceVersion: '0' })));
    return clusterStateSamples(n!.items as Node[], d!.items as Deployment[], p!.items as Pod[]);
  };
  const samples = (): Promise<ClusterStateSamples> => {
    if (!pending) {
      const p = compute();
      pending = p;
      const forget = () => { if (pending === p) pending = undefined; };
      p.then(forget, forget);
    }
    return pending;
  };
  new Gauge({
    name: 'trireme_node_ready', help: '1 when the node\'s Ready condition is True, 0 otherwise', labelNames: ['node'], registers,
    async collect() {
      this.reset();
      for (const s of (await samples()).nodeReady) this.set({ node: s.node }, s.value);
    },
  });
  new Gauge({
    name: 'trireme_deployment_replicas_desired', help: 'spec.replicas of each Deployment', labelNames: ['namespace', 'deployment'], registers,
    async collect() {
      this.reset();
      for (const s of (await samples()).deployments) this.set({ namespace: s.namespace, deployment: s.deployment }, s.desired);
    },
  });
  new Gauge({
    name: 'trireme_deployment_replicas_available', help: 'status.availableReplicas of each Deployment', labelNames: ['namespace', 'deployment'], registers,
    async collect() {
      this.reset();
      for (const s of (await samples()).deployments) this.set({ namespace: s.namespace, deployment: s.deployment }, s.available);
    },
  });
  new Counter({
    name: 'trireme_pod_container_status_restarts_total', help: 'restartCount of each container of each pod', labelNames: ['namespace', 'pod', 'container'], registers,
    async collect() {
      this.reset();
      for (const s of (await samples()).restarts) this.inc({ namespace: s.namespace, pod: s.pod, container: s.container }, s.value);
    },
  });
}
