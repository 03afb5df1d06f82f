// Backend choice for one listener: round-robin over its backends, skipping those that failed a
// connect recently, with optional ClientIP session affinity. Deterministic: time comes in as
// `now` arguments, so tests drive it with plain numbers.
// Guarantees: a client with a live affinity entry gets the same backend while that backend is
// listed and has not failed (the entry is refreshed on each use and dropped on failure);
// otherwise backends are taken in turn, those in failure cool-down only when every untried one
// is cooling down; a backend in `tried` is never returned; `undefined` means nothing is left.
// Does not: weigh backends, or probe them (failure is learnt from real connects only).
import type { Affinity, Backend } from './table.js';

/** How long a backend whose connect failed is passed over (endpoint updates follow within ~1 s). */
export const DEFAULT_FAIL_COOLDOWN_MS = 1_000;

interface Sticky { key: string; until: number }

export class BackendPicker {
  private backends: readonly Backend[] = [];
  private next = 0;
  private readonly failedUntil = new Map<string, number>();
  private readonly sticky = new Map<string, Sticky>();
  private affinity: Affinity | undefined;

  constructor(backends: readonly Backend[], affinity: Affinity | undefined, private readonly cooldownMs = DEFAULT_FAIL_COOLDOWN_MS) {
    this.update(backends, affinity);
  }

  get size(): number {
    return this.backends.length;
  }

  /** New backends / affinity; affinity entries and failure marks of backends still listed stay. */
  update(backends: readonly Backend[], affinity: Affinity | undefined): void {
    this.backends = backends;
    this.affinity = affinity;
    const keys = new Set(backends.map((b) => b.key));
    for (const k of this.failedUntil.keys()) if (!keys.has(k)) this.failedUntil.delete(k);
    if (!affinity) this.sticky.clear();
    else for (const [ip, s] of this.sticky) if (!keys.has(s.key)) this.sticky.delete(ip);
    if (this.next >= backends.length) this.next = 0;
  }

  has(key: string): boolean {
    return this.backends.some((b) => b.key === key);
  }

  pick(clientIp: string, now: number, tried?: ReadonlySet<string>): Backend | undefined {
    const n = this.backends.length;
    if (n === 0) return undefined;
    if (this.affinity) {
      const s = this.sticky.get(clientIp);
      if (s && s.until > now && !tried?.has(s.key) && !this.coolingDown(s.key, now)) {
        const b = this.backends.find((x) => x.key === s.key);
        if (b) {
          s.until = now + this.affinity.timeoutMs;
          return b;
        }
      }
    }
    let fallback = -1;
    let chosen = -1;
    for (let i = 0; i < n; i++) {
      const idx = (this.next + i) % n;
      const b = this.backends[idx]!;
      if (tried?.has(b.key)) continue;
      if (!this.coolingDown(b.key, now)) {
        chosen = idx;
        break;
      }
      if (fallback < 0) fallback = idx;
    }
    if (chosen < 0) chosen = fallback;
    if (chosen < 0) return undefined;
    this.next = (chosen + 1) % n;
    const b = this.backends[chosen]!;
    if (this.affinity) this.sticky.set(clientIp, { key: b.key, until: now + this.affinity.timeoutMs });
    return b;
  }

  /** A connect to `b` failed: pass it over for the cool-down, and forget the client's affinity to it. */
  failed(b: Backend, clientIp: string, now: number): void {
    this.failedUntil.set(b.key, now + this.cooldownMs);
    const s = this.sticky.get(clientIp);
    if (s?.key === b.key) this.sticky.delete(clientIp);
  }

  /** A connect to `b` worked: its failure mark (if any) is cleared. */
  succeeded(b: Backend): void {
    if (this.failedUntil.size > 0) this.failedUntil.delete(b.key);
  }

  /** Drops expired affinity entries and failure marks (called from the proxy's periodic tick). */
  sweep(now: number): void {
    for (const [ip, s] of this.sticky) if (s.until <= now) this.sticky.delete(ip);
    for (const [k, until] of this.failedUntil) if (until <= now) this.failedUntil.delete(k);
  }

  private coolingDown(key: string, now: number): boolean {
    if (this.failedUntil.size === 0) return false;
    const until = this.failedUntil.get(key);
    return until !== undefined && until > now;
  }
}
