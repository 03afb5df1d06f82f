// The decisions of the client-side balancer (src/client/balancer.ts), as pure functions of the
// known servers, an observation and the time it was made: which servers are up, which one a
// request goes to, which servers a `default/kubernetes` Endpoints object names.
// Guarantees: `current` is never left on a server marked down while another one is up (every
// observation re-picks at once); with every server down, `choose` still names each untried one
// in turn, so requests keep trying and the probes keep all of them in view; the seed (the server
// the user configured) and the preferred server are never dropped; an Endpoints object that names
// no server is ignored (a moment with no lease renewed must not make the client forget everyone).
// A connect failure or a silent watch marks a server down at once; probes mark it down after
// `probeFailuresToDown` failures in a row and up after `probeSuccessesToUp` successes; a request
// answered by a server marks it up. Does not: do I/O, keep time, or judge load (sticky, not
// round-robin: one server at a time keeps read-your-writes and keep-alive connections).

export interface PlanConfig {
  /** Failed probes in a row that mark an up server down. */
  probeFailuresToDown: number;
  /** Good probes in a row that mark a down server up. */
  probeSuccessesToUp: number;
}

export const DEFAULT_PLAN_CONFIG: PlanConfig = { probeFailuresToDown: 2, probeSuccessesToUp: 1 };

export interface ServerEntry {
  url: string;
  up: boolean;
  probeFailures: number;
  probeSuccesses: number;
  /** When `up` last changed (or the entry was added). */
  since: number;
}

export interface BalancerState {
  /** In preference order: preferred first, then the seed, then learned servers as learned. */
  servers: readonly ServerEntry[];
  current: string | undefined;
  seed: string;
  preferred: string | undefined;
}

export type Observation =
  | { kind: 'probe'; url: string; ok: boolean; at: number }
  | { kind: 'connect-failed'; url: string; at: number }
  | { kind: 'silent'; url: string; at: number }
  | { kind: 'answered'; url: string; at: number }
  | { kind: 'endpoints'; urls: readonly string[]; at: number };

export interface Transition {
  state: BalancerState;
  wentDown: string[];
  wentUp: string[];
  added: string[];
  removed: string[];
}

/** The canonical form of a server URL (origin and path, no trailing slash), or undefined if it is not https. */
export function normalizeServerUrl(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:') return undefined;
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${u.host}${path}`;
}

export function initialState(seed: string, others: readonly string[], now: number, preferred?: string): BalancerState {
  const order = [...new Set([...(preferred ? [preferred] : []), seed, ...others])];
  const servers = order.map((url) => fresh(url, now));
  return { servers, current: preferred ?? seed, seed, preferred };
}

function fresh(url: string, now: number): ServerEntry {
  // Unknown servers count as up: the probes correct that within a second or two.
  return { url, up: true, probeFailures: 0, probeSuccesses: 0, since: now };
}

/** The URLs an Endpoints object names: every address of every subset times every port of that subset. */
export function endpointUrls(endpoints: unknown): string[] {
  const subsets = (endpoints as { subsets?: { addresses?: { ip?: string }[]; ports?: { port?: number }[] }[] } | undefined)?.subsets ?? [];
  const out: string[] = [];
  for (const s of subsets) {
    for (const a of s.addresses ?? []) {
      if (!a.ip) continue;
      const host = a.ip.includes(':') ? `[${a.ip}]` : a.ip;
      for (const p of s.ports ?? []) {
        if (typeof p.port !== 'number') continue;
        const url = normalizeServerUrl(`https://${host}:${p.port}`);
        if (url && !out.includes(url)) out.push(url);
      }
    }
  }
  return out;
}

/** Applies one observation; returns the new state and what changed. Inputs are not modified. */
export function observe(state: BalancerState, obs: Observation, cfg: PlanConfig = DEFAULT_PLAN_CONFIG): Transition {
  const wentDown: string[] = [];
  const wentUp: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  let servers: ServerEntry[];
  if (obs.kind === 'endpoints') {
    const named = obs.urls.map(normalizeServerUrl).filter((u): u is string => u !== undefined);
    if (named.length === 0) {
      servers = [...state.servers];
    } else {
      const keep = new Set([...named, state.seed, ...(state.preferred ? [state.preferred] : [])]);
      servers = state.servers.filter((s) => {
        if (keep.has(s.url)) return true;
        removed.push(s.url);
        return false;
      });
      for (const url of named) {
        if (servers.some((s) => s.url === url)) continue;
        servers.push(fresh(url, obs.at));
        added.push(url);
      }
    }
  } else {
    servers = state.servers.map((s) => {
      if (s.url !== obs.url) return s;
      const next = judge(s, obs, cfg);
      if (s.up && !next.up) wentDown.push(s.url);
      if (!s.up && next.up) wentUp.push(s.url);
      return next;
    });
  }
  const draft: BalancerState = { ...state, servers };
  return { state: { ...draft, current: settle(draft) }, wentDown, wentUp, added, removed };
}

function judge(s: ServerEntry, obs: Exclude<Observation, { kind: 'endpoints' }>, cfg: PlanConfig): ServerEntry {
  const set = (up: boolean, failures: number, successes: number): ServerEntry => ({
    url: s.url, up, probeFailures: failures, probeSuccesses: successes, since: up === s.up ? s.since : obs.at,
  });
  switch (obs.kind) {
    case 'probe':
      if (obs.ok) {
        const successes = s.probeSuccesses + 1;
        return set(s.up || successes >= cfg.probeSuccessesToUp, 0, successes);
      } else {
        const failures = s.probeFailures + 1;
        return set(s.up && failures < cfg.probeFailuresToDown, failures, 0);
      }
    case 'connect-failed':
    case 'silent':
      return set(false, s.probeFailures, 0);
    case 'answered':
      return set(true, s.up ? s.probeFailures : 0, s.probeSuccesses);
  }
}

/** Where requests go now: the current server while it is up (the preferred one once it is up), else the next up one. */
function settle(state: BalancerState): string | undefined {
  const byUrl = new Map(state.servers.map((s) => [s.url, s] as const));
  const preferred = state.preferred ? byUrl.get(state.preferred) : undefined;
  if (preferred?.up) return preferred.url;
  const current = state.current ? byUrl.get(state.current) : undefined;
  if (current?.up) return current.url;
  const next = ring(state).find((s) => s.up);
  if (next) return next.url;
  // Everything is down: keep the place in the ring so that `choose` goes on from there.
  return current?.url ?? state.servers[0]?.url;
}

/** The servers in ring order starting after the current one (the current one last). */
function ring(state: BalancerState): ServerEntry[] {
  const i = state.servers.findIndex((s) => s.url === state.current);
  if (i < 0) return [...state.servers];
  return [...state.servers.slice(i + 1), ...state.servers.slice(0, i + 1)];
}

/**
 * The server a request should try next, given the ones it already tried: the current one, else
 * the next up server in ring order, else (everything down) the next untried one in ring order.
 * Undefined when every known server has been tried.
 */
export function choose(state: BalancerState, tried: ReadonlySet<string>): string | undefined {
  const current = state.servers.find((s) => s.url === state.current);
  if (current && current.up && !tried.has(current.url)) return current.url;
  const order = ring(state).filter((s) => !tried.has(s.url));
  return (order.find((s) => s.up) ?? order[0])?.url;
}
