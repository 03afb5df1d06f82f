// Overload protection for the API server, Kubernetes' max-in-flight filter with the simplest
// form of its priority levels: a flood from ordinary users cannot take the seats the nodes and
// the control plane's own components need, and the admin is never turned away.
// - Priority levels: `exempt` (the `system:masters` group: the admin, who must be able to act
//   during an incident), `system` (nodes, and the components' `system:` users other than
//   anonymous and service accounts), `workload` (everyone else, anonymous included).
// - Seats: each non-exempt level has its own `readOnly` and `mutating` budgets of requests in
//   flight; a request beyond its level's budget is refused at once with 429 TooManyRequests and
//   `retryAfterSeconds` 1 (clients back off and retry, as client-go and kubectl do).
// - Long-running requests (watches, exec/attach/portforward/proxy, followed logs) take no seat:
//   they are counted per user instead, at most `watchesPerUser` open at once (exempt: no cap).
// Guarantees: `admit` either refuses (nothing counted) or returns a release that gives back
// exactly what it took, however many times it is called. Pure bookkeeping: no timers, no I/O.
// Does not: queue or fair-share within a level (a refused request is refused, not delayed),
// weigh requests by cost, or look at request bodies.
import { TriremeError } from '../errors.js';
import type { UserInfo } from './auth.js';
import { MASTERS_GROUP, NODES_GROUP } from './auth.js';
import type { RequestInfo } from './request-info.js';

export type PriorityLevel = 'exempt' | 'system' | 'workload';
export const PRIORITY_LEVELS: readonly PriorityLevel[] = ['exempt', 'system', 'workload'];

export interface FlowLimits {
  /** Read-only requests in flight per level (Kubernetes' --max-requests-inflight: 400). */
  readOnly: number;
  /** Mutating requests in flight per level (Kubernetes' --max-mutating-requests-inflight: 200). */
  mutating: number;
  /** Long-running requests (watches…) one non-exempt user may have open. */
  watchesPerUser: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = { readOnly: 400, mutating: 200, watchesPerUser: 1_000 };

export function priorityOf(user: UserInfo | undefined): PriorityLevel {
  if (!user) return 'workload';
  if (user.groups.includes(MASTERS_GROUP)) return 'exempt';
  if (user.groups.includes(NODES_GROUP)) return 'system';
  if (user.name.startsWith('system:') && user.name !== 'system:anonymous' && !user.name.startsWith('system:serviceaccount:')) return 'system';
  return 'workload';
}

const LONG_RUNNING_SUBRESOURCES: ReadonlySet<string> = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** Whether a request stays open for as long as the client wants (Kubernetes' long-running check). */
export function isLongRunning(ri: RequestInfo, query: URLSearchParams): boolean {
  if (ri.kind !== 'resource') return false;
  if (ri.verb === 'watch') return true;
  if (ri.subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(ri.subresource)) return true;
  return ri.subresource === 'log' && (query.get('follow') === 'true' || query.get('follow') === '1');
}

export type Admission = { ok: true; level: PriorityLevel; release: () => void } | { ok: false; level: PriorityLevel; reason: 'inflight' | 'watches'; error: TriremeError };

type SeatKind = 'readOnly' | 'mutating';

export class FlowControl {
  private readonly seats = new Map<string, number>();
  private readonly watches = new Map<string, number>();

  constructor(private readonly limits: FlowLimits = DEFAULT_FLOW_LIMITS) {}

  admit(user: UserInfo | undefined, method: string, ri: RequestInfo, query: URLSearchParams): Admission {
    const level = priorityOf(user);
    if (level === 'exempt') return { ok: true, level, release: () => undefined };
    if (isLongRunning(ri, query)) {
      const who = user?.name ?? 'system:anonymous';
      const open = this.watches.get(who) ?? 0;
      if (open >= this.limits.watchesPerUser) {
        return { ok: false, level, reason: 'watches', error: new TriremeError('TooManyRequests', `too many long-running requests (watches, exec, followed logs) open for user "${who}": at most ${this.limits.watchesPerUser}`, { context: { retryAfterSeconds: 1 } }) };
      }
      this.watches.set(who, open + 1);
      return { ok: true, level, release: once(() => this.dec(this.watches, who)) };
    }
    const kind: SeatKind = method === 'GET' || method === 'HEAD' ? 'readOnly' : 'mutating';
    const key = `${level}/${kind}`;
    const used = this.seats.get(key) ?? 0;
    if (used >= this.limits[kind]) {
      return { ok: false, level, reason: 'inflight', error: new TriremeError('TooManyRequests', 'Too many requests, please try again later.', { context: { retryAfterSeconds: 1 } }) };
    }
    this.seats.set(key, used + 1);
    return { ok: true, level, release: once(() => this.dec(this.seats, key)) };
  }

  /** Seats taken now: `level/readOnly` and `level/mutating` counts (levels with none omitted). */
  inflight(): Record<string, number> {
    return Object.fromEntries(this.seats);
  }

  /** Long-running requests open per user now. */
  openLongRunning(user: string): number {
    return this.watches.get(user) ?? 0;
  }

  private dec(m: Map<string, number>, key: string): void {
    const n = (m.get(key) ?? 0) - 1;
    if (n > 0) m.set(key, n);
    else m.delete(key);
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
