// Kubernetes' human-readable durations (apimachinery `util/duration`), as `kubectl get` shows
// them in AGE, LAST SEEN and RESTARTS columns. Guarantees: pure functions of their inputs,
// the same buckets and rounding (truncation toward zero) as Kubernetes, clock skew of up to
// one second shown as `0s`, larger negative spans as `<invalid>`. Does not read the clock:
// callers pass `now` so that tables are reproducible in tests.
import { parseKubeTime } from '../time.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Whole units of `unit` in `ms`, truncated toward zero like Go's integer conversion. */
function whole(ms: number, unit: number): number {
  return Math.trunc(ms / unit);
}

/** A short form with one unit: `45s`, `12m`, `5h`, `3d`, `2y`. */
export function shortHumanDuration(ms: number): string {
  const seconds = whole(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = whole(ms, MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = whole(ms, HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** The form `kubectl get` uses for ages: two or three significant figures (`3m20s`, `5h10m`, `2d3h`, `3y45d`). */
export function humanDuration(ms: number): string {
  const seconds = whole(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = whole(ms, MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = whole(ms, HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/**
 * Time elapsed from an RFC 3339 timestamp to `now`, as `humanDuration`; `<unknown>` when the
 * timestamp is absent or unparsable (Kubernetes prints `<unknown>` for a zero time).
 */
export function since(timestamp: string | null | undefined, now: number): string {
  const t = parseKubeTime(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}
