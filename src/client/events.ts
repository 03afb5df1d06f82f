// Records core/v1 Events about objects, the way kubectl describe shows them. Fire-and-forget:
// a failed event write is logged at debug level and never fails the caller. Repeats of the same
// (object, reason, message) within ten minutes bump `count` on one Event instead of adding more.
import type { KubeObject } from '../api/object.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { ApiClient } from './api-client.js';
import { resource } from './resources.js';
import { kubeTime } from '../api/time.js';

const EVENTS = resource('', 'events');
const AGGREGATE_MS = 10 * 60 * 1000;

interface Recorded { name: string; namespace: string; count: number; first: string; at: number }

export class EventRecorder {
  private readonly recent = new Map<string, Recorded>();
  private lastPrune = 0;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly client: ApiClient, private readonly source: { component: string; host?: string }, opts: { clock?: Clock; logger?: Logger } = {}) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
  }

  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    void this.write(obj, type, reason, message, fieldPath).catch((err: unknown) => {
      this.log.debug({ err, reason }, 'event not recorded');
    });
  }

  private async write(obj: KubeObject, type: string, reason: string, message: string, fieldPath?: string): Promise<void> {
    const m = obj.metadata ?? {};
    const namespace = m.namespace || 'default';
    const nowMs = this.clock.now();
    const now = kubeTime(nowMs);
    const key = `${m.uid}/${reason}/${message}/${fieldPath ?? ''}`;
    // Forget old entries at most once a minute: scanning on every event is O(events) each.
    if (nowMs - this.lastPrune > 60_000) {
      this.lastPrune = nowMs;
      for (const [k, r] of this.recent) if (nowMs - r.at > AGGREGATE_MS) this.recent.delete(k);
    }
    const seen = this.recent.get(key);
    if (seen) {
      seen.count++;
      seen.at = nowMs;
      await this.client.patch(EVENTS, seen.namespace, seen.name, 'merge', { count: seen.count, lastTimestamp: now });
      return;
    }
    const name = `${m.name ?? 'object'}.${nowMs.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    const involvedObject: Record<string, unknown> = { kind: obj.kind, namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: obj.apiVersion, resourceVersion: m.resourceVersion };
    if (fieldPath) involvedObject.fieldPath = fieldPath;
    this.recent.set(key, { name, namespace, count: 1, first: now, at: nowMs });
    await this.client.create(EVENTS, namespace, {
      metadata: { name, namespace },
      involvedObject, reason, message, type, count: 1,
      firstTimestamp: now, lastTimestamp: now,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      reportingComponent: this.source.component, reportingInstance: this.source.host ?? '',
    });
  }
}
