// Shared test fixtures for the controller tests: object builders, pod states, and polling.
import type { KubeObject } from '../../src/api/object.js';
import { pollUntil } from '../../src/util/poll.js';
import type { Pod, Node, ConfigMap } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';

export type PodLike = Pod & KubeObject;
export type NodeLike = Node & KubeObject;
export type ConfigMapObj = ConfigMap & KubeObject;
export type DeploymentLike = Deployment & KubeObject;
export type RsLike = ReplicaSet & KubeObject;

export function deployment(name: string, replicas: number): DeploymentLike {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'web:1' }] } },
    },
  };
}

export function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  return pollUntil<T>('a condition', fn, { timeoutMs, everyMs: 25 });
}

let seq = 0;
/** A pod in a given state, for the pure-decision tests. */
export function pod(opts: {
  name?: string; node?: string; phase?: string; ready?: boolean; readySince?: string; restarts?: number;
  created?: string; labels?: Record<string, string>; owner?: string; hash?: string; deleting?: boolean; cost?: number;
} = {}): PodLike {
  const name = opts.name ?? `p${++seq}`;
  const p: PodLike = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`,
      creationTimestamp: opts.created ?? '2024-01-01T00:00:00Z',
      labels: { ...(opts.labels ?? {}), ...(opts.hash ? { 'controller-revision-hash': opts.hash } : {}) },
    },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(opts.node ? { nodeName: opts.node } : {}) },
    status: {
      phase: opts.phase ?? (opts.ready ? 'Running' : 'Pending'),
      conditions: opts.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: opts.readySince ?? '2024-01-01T00:00:00Z' }] : [],
      containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: Boolean(opts.ready), restartCount: opts.restarts ?? 0 }],
    },
  };
  if (opts.owner) p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'o', uid: opts.owner, controller: true }];
  if (opts.deleting) p.metadata = { ...p.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' };
  if (opts.cost !== undefined) p.metadata!.annotations = { 'controller.kubernetes.io/pod-deletion-cost': String(opts.cost) };
  return p;
}
