// Whether this agent may have been cut off from the control plane (pure): the input of the node
// fence. Two signs, both measured on the agent's own monotonic clock: its reports (lease
// renewals, status posts) have not succeeded for longer than `fenceAfterMs`, or the clock jumped
// between two observations by more than `fenceAfterMs` (the process was suspended — SIGSTOP, a
// frozen VM — and anything it believes about the API may be stale, even a report that
// "succeeded" right after the wake-up, since it was sent before). A new agent starts suspect:
// it does not know what happened while it was not running.
// Guarantees: suspicion is sticky — only a completed fence (`fenced`) clears it, never a report;
// self-fencing is due once no report succeeded (and no fence proved contact) for
// `selfFenceAfterMs`; such a silence always makes the agent suspect too, so the fence that
// must run before the next report is the one that releases the self-fenced pods.
// Does not: read any clock (every function takes `now`), or decide what to stop (plan.ts).

export interface ContactConfig {
  /** Report silence or a clock jump longer than this makes the agent fence before reporting. */
  fenceAfterMs: number;
  /** Report silence after which self-fencing pods are stopped. */
  selfFenceAfterMs: number;
}

export interface ContactState {
  /** The agent must fence before its next report; `why` says what made it suspect. */
  suspect: boolean;
  why?: string;
  /** The last successful report (lease renewal or node status). */
  lastReportAt: number;
  /** The last proof of contact: a report or a completed fence. */
  lastContactAt: number;
  /** The last time the agent looked (a tick, a report attempt). */
  lastSeenAt: number;
  /** When the last clock jump was seen (a fence started before it proves nothing). */
  lastJumpAt?: number;
}

export function initialContact(now: number): ContactState {
  return { suspect: true, why: 'the agent (re)started', lastReportAt: now, lastContactAt: now, lastSeenAt: now };
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Looks at the time: a jump since the last look, or a silence, makes the agent suspect. */
export function observe(s: ContactState, now: number, cfg: ContactConfig): ContactState {
  const next: ContactState = { ...s, lastSeenAt: Math.max(s.lastSeenAt, now) };
  const gap = now - s.lastSeenAt;
  if (gap > cfg.fenceAfterMs) {
    return { ...next, lastJumpAt: now, suspect: true, why: s.suspect ? s.why ?? 'suspended' : `the agent was suspended for ${secs(gap)}` };
  }
  if (s.suspect) return next;
  const silence = now - s.lastContactAt;
  const limit = Math.min(cfg.fenceAfterMs, cfg.selfFenceAfterMs);
  if (silence >= limit) return { ...next, suspect: true, why: `no report reached the API for ${secs(silence)}` };
  return next;
}

/** A report succeeded. It does not clear suspicion (it may have been sent before a suspension). */
export function reported(s: ContactState, now: number): ContactState {
  return { ...s, lastReportAt: Math.max(s.lastReportAt, now), lastContactAt: Math.max(s.lastContactAt, now) };
}

/** A fence completed: what ran on the node matches a consistent read of the API taken at `startedAt`. */
export function fenced(s: ContactState, startedAt: number, now: number): ContactState {
  // A suspension during the fence itself is not covered by its read: stay suspect, fence again.
  if (s.lastJumpAt !== undefined && s.lastJumpAt > startedAt) return { ...s, suspect: true, why: 'the agent was suspended during a fence' };
  const { why: _why, ...rest } = s;
  return { ...rest, suspect: false, lastContactAt: Math.max(s.lastContactAt, now), lastSeenAt: Math.max(s.lastSeenAt, now) };
}

/** Self-fencing pods must be stopped: no contact for `selfFenceAfterMs`. */
export function selfFenceDue(s: ContactState, now: number, cfg: ContactConfig): boolean {
  return now - s.lastContactAt >= cfg.selfFenceAfterMs;
}
