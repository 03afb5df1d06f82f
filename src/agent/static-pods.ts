// Static pods: `<dataDir>/manifests/*.yaml|*.yml|*.json`, one Pod per file, run by this agent
// whether or not the API is reachable, and mirrored into the API as mirror pods.
// - The pod runs as `<name>-<nodeName>` in its namespace (default `default`), with a uid derived
//   from the manifest's content and the node name (so an agent restart re-adopts its containers
//   and an edited manifest replaces the pod).
// - The mirror pod has the same name, `spec.nodeName` set and the annotations
//   `kubernetes.io/config.mirror` = `kubernetes.io/config.hash` = the manifest hash; it is
//   recreated when deleted or stale, removed when the manifest goes, and carries the status.
// Guarantees: manifests are re-read every `periodMs`; a file that does not parse is logged and
// skipped (a pod already running from its earlier content keeps running until the file is fixed
// or removed). A mirror pod to delete (its manifest is gone, or it is stale, or it is left over
// from before an agent restart: found by one list of this node's pods once the API answers) stays
// on the to-delete list until the API confirms the delete (or NotFound), retried every period;
// a failing mirror write is logged once per failure streak (a typed error), not per attempt.
// Does not resolve ConfigMap/Secret references (static pods cannot use them).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ConfigMap, Pod, PodStatus, Secret } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/api-client.js';
import type { EventRecorder } from '../client/events.js';
import { resource } from '../client/resources.js';
import { TriremeError, isTriremeError } from '../errors.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { PodManager } from './pods/manager.js';
import type { PodSink } from './pods/sink.js';

const PODS = resource('', 'pods');
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const SOURCE_ANNOTATION = 'kubernetes.io/config.source';

type PodObj = Pod & KubeObject;

/** Turns a manifest into the static pod this node runs (pure). */
export function staticPod(manifest: Pod, nodeName: string, content: string): Pod {
  const hash = createHash('sha256').update(nodeName).update('\0').update(content).digest('hex');
  const uid = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
  const md = manifest.metadata ?? {};
  return {
    ...manifest,
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      ...md,
      name: `${md.name ?? 'static'}-${nodeName}`,
      namespace: md.namespace ?? 'default',
      uid,
      annotations: { ...(md.annotations ?? {}), [HASH_ANNOTATION]: hash.slice(0, 32), [SOURCE_ANNOTATION]: 'file' },
    },
    spec: { ...(manifest.spec ?? { containers: [] }), nodeName },
    status: {},
  };
}

/** The mirror pod to create for a static pod (pure). */
export function mirrorPod(pod: Pod): Pod {
  const md = pod.metadata ?? {};
  const hash = md.annotations?.[HASH_ANNOTATION] ?? '';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: md.name ?? '', namespace: md.namespace ?? 'default',
      ...(md.labels ? { labels: md.labels } : {}),
      annotations: { ...(md.annotations ?? {}), [MIRROR_ANNOTATION]: hash },
    },
    spec: pod.spec ?? { containers: [] },
  };
}

export interface StaticPodOptions {
  dir: string;
  nodeName: string;
  manager: PodManager;
  client: ApiClient;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  periodMs?: number;
}

export class StaticPods {
  /** uid → static pod. */
  private readonly pods = new Map<string, Pod>();
  private readonly mirrors = new Map<string, PodObj>();
  /** "ns/name" → the mirror pod to delete (uid precondition), until the API confirms. */
  private readonly toDelete = new Map<string, { namespace: string; name: string; uid?: string }>();
  /** Keys whose last mirror write failed (so a failure streak is logged once). */
  private readonly failing = new Set<string>();
  /** Whether leftover mirrors of this node (from before a restart) were looked for. */
  private orphansListed = false;
  private timer: Timer | undefined;
  private stopped = false;

  constructor(private readonly o: StaticPodOptions) {}

  /** Loads the manifests and starts their pods; then keeps files and mirrors in sync. */
  async start(): Promise<void> {
    await this.scan();
    void this.syncMirrors();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      void (async () => {
        await this.scan().catch((e: unknown) => this.o.logger.warn({ err: e }, 'static pod scan failed'));
        await this.syncMirrors();
        this.schedule();
      })();
    }, this.o.periodMs ?? 5000);
  }

  private async scan(): Promise<void> {
    const files = (await fs.readdir(this.o.dir).catch(() => [] as string[])).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    const seen = new Set<string>();
    for (const f of files) {
      let content: string;
      let manifest: Pod;
      try {
        content = await fs.readFile(path.join(this.o.dir, f), 'utf8');
        manifest = parseYaml(content) as Pod;
        if (manifest?.kind !== 'Pod' || !manifest.metadata?.name || !manifest.spec?.containers) throw new Error('not a Pod manifest');
      } catch (e) {
        this.o.logger.warn({ err: e, file: f }, 'skipping a static pod manifest');
        // Keep whatever runs from this file's earlier content.
        for (const [uid, p] of this.pods) if (p.metadata?.annotations?.['trireme.io/manifest'] === f) seen.add(uid);
        continue;
      }
      const pod = staticPod(manifest, this.o.nodeName, content);
      pod.metadata!.annotations!['trireme.io/manifest'] = f;
      const uid = pod.metadata!.uid!;
      seen.add(uid);
      if (!this.pods.has(uid)) {
        this.pods.set(uid, pod);
        this.o.manager.upsert(pod, this.sinkFor(uid));
      }
    }
    for (const uid of [...this.pods.keys()]) {
      if (seen.has(uid)) continue;
      this.pods.delete(uid);
      this.o.manager.remove(uid);
    }
  }

  /** Whether a uid belongs to a static pod (so orphan cleanup keeps it). */
  has(uid: string): boolean {
    return this.pods.has(uid);
  }

  private async syncMirrors(): Promise<void> {
    const c = this.o.client;
    const wanted = new Map([...this.pods.values()].map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
    await this.listOrphans(wanted);
    for (const [key, pod] of wanted) {
      const ns = pod.metadata?.namespace ?? 'default';
      const name = pod.metadata?.name ?? '';
      const hash = pod.metadata?.annotations?.[HASH_ANNOTATION];
      this.toDelete.delete(key);
      try {
        let cur: PodObj | undefined;
        try {
          cur = await c.get<PodObj>(PODS, ns, name);
        } catch (e) {
          if (!isTriremeError(e, 'NotFound')) throw e;
        }
        if (cur && (cur.metadata?.annotations?.[MIRROR_ANNOTATION] !== hash || cur.metadata?.deletionTimestamp)) {
          // Stale: replace it. A failed delete fails this sync; the next period retries.
          await this.deleteMirror(ns, name, cur.metadata?.uid);
          cur = undefined;
        }
        if (!cur) {
          cur = await c.create<PodObj>(PODS, ns, mirrorPod(pod) as PodObj);
          this.o.manager.worker(pod.metadata?.uid ?? '')?.kick();
        }
        this.mirrors.set(key, cur);
        const w = this.o.manager.worker(pod.metadata?.uid ?? '');
        if (w) w.mirrorName = name;
        this.succeeded(key);
      } catch (e) {
        this.failed(key, 'syncing the mirror pod', e);
      }
    }
    // Mirrors of manifests that are gone: delete them, and keep trying until the API confirms.
    for (const [key, m] of [...this.mirrors]) {
      if (wanted.has(key)) continue;
      this.mirrors.delete(key);
      this.toDelete.set(key, { namespace: m.metadata?.namespace ?? 'default', name: m.metadata?.name ?? '', uid: m.metadata?.uid });
    }
    for (const [key, d] of [...this.toDelete]) {
      try {
        await this.deleteMirror(d.namespace, d.name, d.uid);
        this.toDelete.delete(key);
        this.succeeded(key);
      } catch (e) {
        this.failed(key, 'deleting the mirror pod', e);
      }
    }
  }

  /** Once the API answers: this node's mirror pods that no manifest accounts for (agent restart). */
  private async listOrphans(wanted: Map<string, Pod>): Promise<void> {
    if (this.orphansListed) return;
    let pods: PodObj[];
    try {
      pods = (await this.o.client.list<PodObj>(PODS, undefined, { fieldSelector: `spec.nodeName=${this.o.nodeName}` })).items;
    } catch (e) {
      this.failed('(list)', 'listing this node\'s mirror pods', e);
      return;
    }
    this.succeeded('(list)');
    this.orphansListed = true;
    for (const p of pods) {
      const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
      if (p.metadata?.annotations?.[MIRROR_ANNOTATION] === undefined || wanted.has(key)) continue;
      this.toDelete.set(key, { namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '', uid: p.metadata?.uid });
    }
  }

  /** Deletes a mirror pod (NotFound counts as done); throws a typed error otherwise. */
  private async deleteMirror(namespace: string, name: string, uid: string | undefined): Promise<void> {
    try {
      await this.o.client.delete(PODS, namespace, name, { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) });
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return;
      // A uid precondition that fails means someone replaced the pod: not ours to delete.
      if (isTriremeError(e, 'Conflict') && uid) return;
      throw new TriremeError(isTriremeError(e) ? e.code : 'ServiceUnavailable', `deleting mirror pod ${namespace}/${name}: ${(e as Error).message}`, { cause: e, context: { namespace, name } });
    }
  }

  private failed(key: string, what: string, err: unknown): void {
    const retryMs = this.o.periodMs ?? 5000;
    if (this.failing.has(key)) {
      this.o.logger.debug({ err, pod: key }, `${what} failed again; retrying`);
      return;
    }
    this.failing.add(key);
    this.o.logger.warn({ err, pod: key, retryMs }, `${what} failed; retrying every period`);
  }

  private succeeded(key: string): void {
    if (this.failing.delete(key)) this.o.logger.info({ pod: key }, 'mirror pod sync recovered');
  }

  private sinkFor(uid: string): PodSink {
    const mirror = (): PodObj | undefined => {
      const p = this.pods.get(uid);
      return p ? this.mirrors.get(`${p.metadata?.namespace}/${p.metadata?.name}`) : undefined;
    };
    const c = this.o.client;
    return {
      configMap: async (): Promise<ConfigMap | undefined> => undefined,
      secret: async (): Promise<Secret | undefined> => undefined,
      patchStatus: async (_pod: Pod, status: PodStatus): Promise<void> => {
        const m = mirror();
        if (!m) throw new Error('no mirror pod yet');
        await c.patch(PODS, m.metadata?.namespace, m.metadata?.name ?? '', 'merge', { status }, { subresource: 'status' });
      },
      recordPorts: async (): Promise<void> => undefined,
      deletePod: async (): Promise<void> => undefined,
      event: (_pod, type, reason, message): void => {
        const m = mirror();
        if (m) this.o.recorder.event(m, type, reason, message);
      },
    };
  }
}
