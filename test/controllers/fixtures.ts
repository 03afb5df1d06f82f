// Shared test fixtures for the controller tests: object builders, pod states, polling, and a
// watch that checks every state the pods pass through.
import type { KubeObject } from '../../src/api/object.js';
import { pollUntil } from '../../src/util/poll.js';
import type { Pod, Node, ConfigMap } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { ApiClient } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { isTriremeError } from '../../src/errors.js';

export type PodLike = Pod & KubeObject;
export type NodeLike = Node & KubeObject;
export type ConfigMapObj = ConfigMap & KubeObject;
export type DeploymentLike = Deployment & KubeObject;
export type RsLike = ReplicaSet & KubeObject;

const PODS = resource('', 'pods');
/** Label of trackPods' marker pods (no controller selects it). */
const MARKER = 'trireme.test/watch-marker';

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

/** Polls `fn` until it returns a value (see src/util/poll.ts); fails after `timeoutMs`. */
export function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  return pollUntil('the test condition', fn, { timeoutMs, everyMs: 25 });
}

/**
 * Every state the pods of a namespace pass through, from a watch: `check` sees the pod set
 * after each event (watch events arrive in revision order, so no intermediate state is missed,
 * unlike sampling); the first error it throws is rethrown by `caughtUp()` and `stop()`.
 * `caughtUp()` creates a marker pod and waits until the watch delivers it, so every change
 * made before the call has been checked. Call `stop()` in a `finally`.
 */
export async function trackPods(client: ApiClient, namespace: string, check: (pods: ReadonlyMap<string, PodLike>) => void): Promise<{ caughtUp(): Promise<void>; stop(): void }> {
  const pods = new Map<string, PodLike>();
  const listed = await client.list<PodLike>(PODS, namespace);
  for (const p of listed.items) pods.set(p.metadata?.name ?? '', p);
  let ended: Error | undefined;
  let failed: unknown;
  let markers = 0;
  const run = () => {
    try {
      check(pods);
    } catch (e) {
      failed ??= e;
    }
  };
  const w = client.watch(PODS, namespace, { resourceVersion: listed.resourceVersion }, (ev) => {
    const p = ev.object as PodLike;
    if (ev.type === 'DELETED') pods.delete(p.metadata?.name ?? '');
    else if (ev.type !== 'BOOKMARK') pods.set(p.metadata?.name ?? '', p);
    if (!p.metadata?.labels?.[MARKER]) run();
  }, (err) => {
    ended = err ?? new Error('the pod watch ended');
  });
  run();
  const deleteMarker = (name: string) => client.delete(PODS, namespace, name, { gracePeriodSeconds: 0 }).catch((e: unknown) => {
    if (!isTriremeError(e, 'NotFound')) throw e;
  });
  return {
    async caughtUp() {
      const name = `marker-${++markers}-${Date.now()}`;
      await client.create(PODS, namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { [MARKER]: 'true' } }, spec: { containers: [{ name: 'c', image: 'none' }] } });
      try {
        await pollUntil(`the pod watch to deliver ${name}`, () => {
          if (ended) throw ended;
          return pods.has(name);
        }, { timeoutMs: 10_000, everyMs: 10 });
      } finally {
        await deleteMarker(name);
      }
      if (failed) throw failed;
    },
    stop() {
      w.stop();
      if (failed) throw failed;
    },
  };
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
