// The time formats of the Kubernetes API, once for the whole tree.
// Guarantees: `kubeTime` renders a metav1.Time (RFC 3339, UTC, whole seconds, the fraction
// truncated as Go's marshaller does); `microTime` renders a metav1.MicroTime (six fractional
// digits; our clock has milliseconds, so the last three are zero); `parseKubeTime` reads any
// RFC 3339 time back to milliseconds. Does not: handle times before the epoch specially, or
// render the CRI log format (nanoseconds, see agent/logs/cri.ts, which builds on `isoMillis`).

/** `2024-05-01T10:00:00.123Z`: what `Date#toISOString` gives, the base of the formats below. */
export function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/** metav1.Time: `2024-05-01T10:00:00Z`. */
export function kubeTime(ms: number): string {
  return isoMillis(ms).replace(/\.\d+Z$/, 'Z');
}

/** metav1.MicroTime: `2024-05-01T10:00:00.123000Z`. */
export function microTime(ms: number): string {
  return isoMillis(ms).replace(/Z$/, '000Z');
}

/** Milliseconds of an RFC 3339 time (any fraction length), or undefined when absent or invalid. */
export function parseKubeTime(t: string | null | undefined): number | undefined {
  if (typeof t !== 'string' || t === '') return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}
