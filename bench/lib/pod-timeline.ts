// Per-pod start-up milestones as a watcher sees them: for each pod name, the benchmark-clock
// time (ms) of the create request, its acknowledgement, and the first watch event showing each
// later milestone (bound to a node, a container running, phase Running, Ready=True).
// Guarantees: each milestone keeps the FIRST time it was seen (later events never move it); a
// milestone seen before the create was acknowledged keeps its real time, so a latency may be
// smaller than the create round trip but is never rewritten; only pods announced with `created`
// are tracked (events of other pods are ignored). Pure bookkeeping: no I/O, no clock of its own.
// Does not: look at the server's timestamps (they have one-second resolution), or notice a
// milestone that was reached and lost again between two events (watch events are all it has).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { summarize, type LatencySummary } from './stats.js';

export const MILESTONES = ['scheduled', 'started', 'running', 'ready'] as const;
export type Milestone = (typeof MILESTONES)[number];

export interface PodTimes {
  /** When the create request was sent. */
  sentMs: number;
  /** When its 201 response arrived. */
  ackMs?: number;
  scheduledMs?: number;
  startedMs?: number;
  runningMs?: number;
  readyMs?: number;
  deletedMs?: number;
}

/** The milestones one pod object shows. */
export function milestonesOf(pod: Pod): Set<Milestone> {
  const out = new Set<Milestone>();
  if (pod.spec?.nodeName) out.add('scheduled');
  if ((pod.status?.containerStatuses ?? []).some((c) => c.state?.running !== undefined)) out.add('started');
  if (pod.status?.phase === 'Running') out.add('running');
  if ((pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')) out.add('ready');
  return out;
}

const FIELD: Record<Milestone, 'scheduledMs' | 'startedMs' | 'runningMs' | 'readyMs'> = {
  scheduled: 'scheduledMs', started: 'startedMs', running: 'runningMs', ready: 'readyMs',
};

export class PodTimeline {
  private readonly pods = new Map<string, PodTimes>();

  created(name: string, sentMs: number): void {
    this.pods.set(name, { sentMs });
  }

  acked(name: string, atMs: number): void {
    const p = this.pods.get(name);
    if (p !== undefined) p.ackMs = atMs;
  }

  /** One watch event (`ADDED`, `MODIFIED`, `DELETED`) for `pod`, received at `atMs`. */
  event(type: string, pod: Pod, atMs: number): void {
    const p = this.pods.get(pod.metadata?.name ?? '');
    if (p === undefined) return;
    if (type === 'DELETED') {
      p.deletedMs ??= atMs;
      return;
    }
    for (const m of milestonesOf(pod)) p[FIELD[m]] ??= atMs;
  }

  get(name: string): PodTimes | undefined {
    return this.pods.get(name);
  }

  /** How many tracked pods have reached `m` (or been deleted, for `'deleted'`). */
  count(m: Milestone | 'deleted'): number {
    let n = 0;
    for (const p of this.pods.values()) if ((m === 'deleted' ? p.deletedMs : p[FIELD[m]]) !== undefined) n++;
    return n;
  }

  get size(): number {
    return this.pods.size;
  }

  entries(): [string, PodTimes][] {
    return [...this.pods.entries()];
  }

  /**
   * Latency from the create's acknowledgement to milestone `m`, over the pods that reached it
   * (a pod whose create failed has no ack and is left out; `missing` counts the acked ones that
   * never reached `m`).
   */
  latency(m: Milestone): { summary: LatencySummary; missing: number } {
    const values: number[] = [];
    let missing = 0;
    for (const p of this.pods.values()) {
      if (p.ackMs === undefined) continue;
      const at = p[FIELD[m]];
      if (at === undefined) missing++;
      else values.push(at - p.ackMs);
    }
    return { summary: summarize(values), missing };
  }

  /** Latency between two milestones, over the pods that reached both. */
  between(from: Milestone, to: Milestone): LatencySummary {
    const values: number[] = [];
    for (const p of this.pods.values()) {
      const a = p[FIELD[from]];
      const b = p[FIELD[to]];
      if (a !== undefined && b !== undefined) values.push(b - a);
    }
    return summarize(values);
  }
}
