// The balancer's decisions, as pure functions of plain data and a time: how a backend's health
// follows its check results (rise/fall thresholds, a refused connect), and which backend a new
// connection goes to.
// Guarantees: a backend in `up` goes `down` after `fall` consecutive failed checks, or at once
// when a connection to it could not be made; a `down` one goes `up` after `rise` consecutive good
// checks; an `unknown` one (never checked) takes the first result. `pickBackend` never returns an
// excluded backend, prefers up over unknown over down (a down backend is still tried when nothing
// else is left: refusing the client is never better than trying), and among equals takes the one
// with the fewest active connections, ties broken round-robin from `cursor`.
// Does not: do I/O, keep time (callers pass `now`), or close sessions (the caller acts on a
// transition to down).

export type HealthState = 'unknown' | 'up' | 'down';

export interface Thresholds {
  /** Consecutive good checks that bring a down backend up. */
  rise: number;
  /** Consecutive failed checks that take an up backend down. */
  fall: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { rise: 2, fall: 2 };

export interface BackendHealth {
  state: HealthState;
  okStreak: number;
  failStreak: number;
  /** When `state` last changed (ms). */
  since: number;
  lastError?: string;
}

export interface Observed {
  health: BackendHealth;
  /** Set when this observation changed the state. */
  transition?: { from: HealthState; to: 'up' | 'down'; reason: 'check' | 'connect' };
}

export function initialHealth(now: number): BackendHealth {
  return { state: 'unknown', okStreak: 0, failStreak: 0, since: now };
}

export function checkThresholds(t: Thresholds): Thresholds {
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v < 1 || v > 100) throw new RangeError(`${k} must be an integer in 1..100, not ${String(v)}`);
  }
  return t;
}

function moved(h: BackendHealth, to: 'up' | 'down', now: number, reason: 'check' | 'connect', lastError?: string): Observed {
  const health: BackendHealth = { state: to, okStreak: to === 'up' ? h.okStreak : 0, failStreak: to === 'down' ? h.failStreak : 0, since: now };
  if (lastError !== undefined) health.lastError = lastError;
  return { health, transition: { from: h.state, to, reason } };
}

/** One active check result: `error` undefined means the check passed. */
export function observeCheck(h: BackendHealth, error: string | undefined, now: number, t: Thresholds): Observed {
  if (error === undefined) {
    const okStreak = h.okStreak + 1;
    const next: BackendHealth = { ...h, okStreak, failStreak: 0 };
    delete next.lastError;
    if (h.state === 'unknown' || (h.state === 'down' && okStreak >= t.rise)) return moved(next, 'up', now, 'check');
    return { health: next };
  }
  const failStreak = h.failStreak + 1;
  const next: BackendHealth = { ...h, failStreak, okStreak: 0, lastError: error };
  if (h.state === 'unknown' || (h.state === 'up' && failStreak >= t.fall)) return moved(next, 'down', now, 'check', error);
  return { health: next };
}

/** A connection to the backend failed (refused, unreachable, timed out): down at once. */
export function observeConnectFailure(h: BackendHealth, error: string, now: number): Observed {
  if (h.state === 'down') return { health: { ...h, okStreak: 0, lastError: error } };
  return moved({ ...h, okStreak: 0, failStreak: h.failStreak + 1 }, 'down', now, 'connect', error);
}

export interface Candidate {
  state: HealthState;
  active: number;
}

const RANK: Record<HealthState, number> = { up: 0, unknown: 1, down: 2 };

/** The index of the backend a new connection should try, or undefined when every one is excluded. */
export function pickBackend(backends: readonly Candidate[], exclude: ReadonlySet<number>, cursor: number): number | undefined {
  const n = backends.length;
  let best: number | undefined;
  for (let k = 0; k < n; k++) {
    const i = (((cursor + k) % n) + n) % n;
    if (exclude.has(i)) continue;
    const b = backends[i]!;
    if (best === undefined) {
      best = i;
      continue;
    }
    const c = backends[best]!;
    if (RANK[b.state] < RANK[c.state] || (RANK[b.state] === RANK[c.state] && b.active < c.active)) best = i;
  }
  return best;
}
