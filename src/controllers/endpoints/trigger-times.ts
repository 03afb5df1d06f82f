// When the change a controller is about to publish happened: per key, the controller's clock at
// the earliest Service or pod event not yet reflected in a write (Kubernetes'
// TriggerTimeTracker, which feeds `endpoints.kubernetes.io/last-change-trigger-time`).
// Guarantees: `note` keeps the earliest time until `done`; `pending` falls back to now.
// Does not: persist anything (a restarted controller dates pending changes by its first sync).
import type { Clock } from '../../util/clock.js';

export class TriggerTimes {
  private readonly first = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  note(key: string): void {
    if (!this.first.has(key)) this.first.set(key, this.clock.now());
  }

  /** The trigger time to write for `key` now. */
  pending(key: string): number {
    return this.first.get(key) ?? this.clock.now();
  }

  /** The key's changes are written (or there was nothing to write). */
  done(key: string, since: number): void {
    // Events noted during the write are newer than `since`: keep them.
    const t = this.first.get(key);
    if (t !== undefined && t <= since) this.first.delete(key);
  }
}
