// E2E harness: workload helpers over the API (list pods, readiness, delete everything).
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ServerHandle } from './server.js';
import { waitFor } from './wait.js';

/**
 * Deletes the workloads of `namespace` (Deployments, ReplicaSets, DaemonSets, StatefulSets,
 * Jobs, Pods) and waits until no pod is left, so the agents stop their containers. Best effort:
 * returns what is left instead of throwing (call it from `after()`).
 */
export async function deleteWorkloads(server: ServerHandle, namespace = 'default', timeoutMs = 30_000): Promise<string[]> {
  await server.kubectl(['delete', 'deployments,replicasets,daemonsets,pods', '--all', '-n', namespace, '--wait=false'], { timeoutMs: 20_000 });
  // Best effort: on timeout, say what is left (or that the server did not answer).
  let left: string[] = [];
  try {
    await waitFor(`the pods of ${namespace} to go`, async () => {
      const r = await server.request(`/api/v1/namespaces/${namespace}/pods`).catch(() => undefined);
      left = r?.status === 200 ? (JSON.parse(r.text) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name) : ['(server unreachable)'];
      return left.length === 0 ? true : undefined;
    }, timeoutMs, 300);
  } catch {
    return left;
  }
  return [];
}

/** The pods of a namespace (optionally by label selector), straight from the API. */
export async function listPods(server: ServerHandle, namespace = 'default', labelSelector?: string): Promise<Pod[]> {
  const q = labelSelector === undefined ? '' : `?labelSelector=${encodeURIComponent(labelSelector)}`;
  const r = await server.request(`/api/v1/namespaces/${namespace}/pods${q}`);
  if (r.status !== 200) throw new Error(`list pods: ${r.status} ${r.text}`);
  return (JSON.parse(r.text) as { items: Pod[] }).items;
}

/** Ready=True and not terminating: what a Service would send traffic to. */
export function podReady(p: Pod): boolean {
  return p.metadata?.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}
