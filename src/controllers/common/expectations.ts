// Controller expectations, as Kubernetes' UIDTrackingControllerExpectations: after a
// controller asks for N creations and some deletions, it does not act on that owner again
// until its informer has observed them (or they time out), so a slow cache never leads to
// creating or deleting twice. Guarantees: creations are counted, deletions tracked by pod
// key so a pod seen deleted twice counts once; expectations older than `ttlMs` (5 minutes,
// like Kubernetes) count as satisfied so a lost event cannot wedge a controller.
// Does not: persist anything — a restarted controller starts with none, which is safe
// because its first sync starts from a fresh list.
import type { Clock } from '../../util/clock.js';

interface Expectation {
  add: number;
  deletions: Set<string>;
  at: number;
}

export class Expectations {
  private readonly items = new Map<string, Expectation>();

  constructor(private readonly clock: Clock, private readonly ttlMs = 5 * 60_000) {}

  /** True when the owner may be synced: nothing outstanding, or the expectation expired. */
  satisfied(key: string): boolean {
    const e = this.items.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.deletions.size === 0) return true;
    return this.clock.now() - e.at > this.ttlMs;
  }

  expectCreations(key: string, n: number): void {
    this.items.set(key, { add: n, deletions: new Set(), at: this.clock.now() });
  }

  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.items.set(key, { add: 0, deletions: new Set(podKeys), at: this.clock.now() });
  }

  creationObserved(key: string): void {
    const e = this.items.get(key);
    if (e) e.add--;
  }

  /** A create that failed will never be observed. */
  creationFailed(key: string): void {
    this.creationObserved(key);
  }

  deletionObserved(key: string, podKey: string): void {
    this.items.get(key)?.deletions.delete(podKey);
  }

  /** Pending creations and deletions, for logs and tests. */
  pending(key: string): { add: number; del: number } {
    const e = this.items.get(key);
    return { add: Math.max(0, e?.add ?? 0), del: e?.deletions.size ?? 0 };
  }

  delete(key: string): void {
    this.items.delete(key);
  }
}
